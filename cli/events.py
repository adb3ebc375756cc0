"""A task's event trail: reading it incrementally, and each event as one readable line."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rich.markup import escape

from cli.api import ApiClient
from cli.render import money, plural, styled
from shared.steering.display import shown_request

PAGE = 100

TESTS_TAIL_SHOWN = 10  # lines of a failed test command shown in the event trail (all of them: status --json)


class EventCursor:
    """Reads only the events not seen yet, resuming from the page the last read ended on."""

    def __init__(self, api: ApiClient, task_id: str, *, page: int = PAGE):
        self._api = api
        self._task_id = task_id
        self._page = page
        self._resume: str | None = None
        self._seen: set[str] = set()

    def mark_seen(self, event_id: str) -> None:
        """An event shown some other way (the live stream): poll() will not return it."""
        self._seen.add(event_id)

    def poll(self) -> list[dict]:
        new: list[dict] = []
        token = self._resume
        while True:
            events, next_token = self._api.list_events(self._task_id, limit=self._page, next_token=token)
            for event in events:
                if event["event_id"] not in self._seen:
                    self._seen.add(event["event_id"])
                    new.append(event)
            if not next_token:
                return new
            token = self._resume = next_token


def _kv(metadata: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in metadata.items() if v not in (None, "", [], {}))[:300]


def event_text(event: dict) -> str:
    """The event without its time: 'SUBMITTED → HYDRATING', 'turn 3 · bash · $0.0047' …"""
    kind, m = event["event_type"], event.get("metadata") or {}
    if kind == "transition":
        note = m.get("note") or m.get("trigger") or m.get("reason")
        return (f"{styled(m.get('from')) or '(new)'} → {styled(m.get('to'))}"
                + (f"  [dim]{escape(str(note))}[/]" if note else ""))
    if kind == "agent.started":
        return f"agent started · model {escape(str(m.get('model_id')))} · max {m.get('max_turns')} turns"
    if kind == "agent.turn":
        tools = ", ".join(m.get("tools") or []) or "no tools"
        return f"turn {m.get('turn')} · {escape(tools)} · {money(m.get('cost_usd'))}"
    if kind == "agent.tests":
        if m.get("passed"):
            return f"tests [green]passed[/] · {escape(str(m.get('command')))}"
        tail = "\n".join((m.get("tail") or "").splitlines()[-TESTS_TAIL_SHOWN:])
        return (f"tests [red]failed[/] · {escape(str(m.get('command')))} · exit {m.get('exit_code')}"
                + (f"\n{escape(tail)}" if tail else ""))
    if kind == "agent.pushed":
        return f"pushed {m.get('commit_count')} commit(s) to {escape(str(m.get('branch')))}"
    if kind == "agent.pull_request":
        return f"pull request {m.get('action', '')} · {m.get('url')}"
    if kind == "agent.finished":
        err = f" · {escape(str(m['error']))}" if m.get("error") else ""
        return (f"agent finished: {m.get('outcome')} · {plural(m.get('turns') or 0, 'turn')} · "
                f"{money(m.get('cost_usd'))}{err}")
    if kind == "model.deprecated":
        return "[yellow]warning[/] " + escape("; ".join(str(w) for w in m.get("warnings") or []))
    if kind.startswith(("nudge.", "approval.")):
        return steering_text(event)
    if kind == "agent.command_refused":
        return f"[yellow]refused[/] {escape(str(m.get('command')))} ({escape(str(m.get('reason')))})"
    return f"{escape(kind)} {escape(_kv(m))}".rstrip()


def steering_text(event: dict) -> str:
    """Nudges and approval decisions, as lines."""
    kind, m = event["event_type"], event.get("metadata") or {}
    if kind == "nudge.received":
        return f"nudge sent: {escape(str(m.get('message', ''))[:120])}"
    if kind == "nudge.delivered":
        return "nudge read by the agent"
    if kind == "approval.requested":
        shown = shown_request(str(m.get("kind", "command")), str(m.get("rule")), str(m.get("command")))
        return (f"[yellow]waiting for approval[/]: {escape(shown)}"
                f"  [dim]approval {m.get('approval_id')}: see bgagent pending[/]")
    verdict = kind.removeprefix("approval.")
    why = f" · {escape(str(m['reason']))}" if m.get("reason") else ""
    return f"approval {m.get('approval_id')} {verdict} by {escape(str(m.get('by')))}{why}"


def event_line(event: dict) -> str:
    ts = (event.get("timestamp") or "")[11:19]
    return f"[dim]{ts}[/]  {event_text(event)}"


@dataclass
class TaskProgress:
    """Stage, turns and cost of a task as its events reveal them."""

    status: str = "SUBMITTED"
    turn: int | None = None
    max_turns: int | None = None
    cost_usd: float | None = None
    started: float = field(default_factory=time.monotonic)

    def see_event(self, event: dict) -> None:
        m = event.get("metadata") or {}
        if event["event_type"] == "transition" and m.get("to"):
            self.status = m["to"]
        elif event["event_type"] == "agent.started":
            self.max_turns = m.get("max_turns") or self.max_turns
        elif event["event_type"] == "agent.turn":
            self.turn, self.cost_usd = m.get("turn", self.turn), m.get("cost_usd", self.cost_usd)

    def see_task(self, task: dict) -> None:
        self.status = task["status"]
        self.max_turns = self.max_turns or task.get("max_turns")
        if task.get("turns") is not None:
            self.turn = task["turns"]
        if task.get("cost_usd") is not None:
            self.cost_usd = task["cost_usd"]

    def summary(self) -> str:
        parts = [styled(self.status)]
        if self.turn is not None:
            parts.append(f"turn {self.turn}" + (f"/{self.max_turns}" if self.max_turns else ""))
        if self.cost_usd is not None:
            parts.append(money(self.cost_usd))
        elapsed = int(time.monotonic() - self.started)
        parts.append(f"{elapsed // 60}:{elapsed % 60:02d}")
        return " · ".join(parts)

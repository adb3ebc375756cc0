"""A task's event trail: reading it incrementally, and each event as one readable line."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rich.markup import escape

from cli.api import ApiClient
from cli.render import money, styled
from shared.tasks.event_words import Part, event_words

PAGE = 100


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


_MARKUP = {"good": "green", "bad": "red", "warn": "yellow", "note": "dim"}


def _rich(part: Part) -> str:
    if part.role == "status":
        return styled(part.text)
    if part.role == "detail":
        return "\n" + escape(part.text)
    style = _MARKUP.get(part.role)
    return f"[{style}]{escape(part.text)}[/]" if style else escape(part.text)


def event_text(event: dict) -> str:
    """The event's words in rich markup, with where to act on an approval."""
    m = event.get("metadata") or {}
    text = "".join(_rich(p) for p in event_words(event["event_type"], m)).rstrip()
    if event["event_type"] == "approval.requested":
        text += f"  [dim]approval {m.get('approval_id')}: see bgagent pending[/]"
    return text


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

"""A task's audit trail as people read it: one line per event, the time spent in each status, cost per turn."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from shared.clock import parse_time
from shared.steering.display import shown_request
from shared.tasks.models import TaskEvent

_MAX_TEXT = 300


@dataclass(frozen=True)
class Line:
    time: str
    kind: str  # a CSS hook: transition, turn, tests, refused, pr, finished, other
    text: str


@dataclass(frozen=True)
class Stage:
    status: str
    entered_at: str
    seconds: float
    current: bool


def _money(value: Any) -> str:
    return f"${float(value):.4f}" if isinstance(value, (int, float)) else "–"


def _kv(metadata: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in metadata.items() if v not in (None, "", [], {}))


def _text(kind: str, m: dict) -> tuple[str, str]:
    if kind == "transition":
        note = m.get("note") or m.get("trigger") or m.get("reason")
        return "transition", f"{m.get('from') or '(new)'} → {m.get('to')}" + (f" ({note})" if note else "")
    if kind == "agent.started":
        return "other", f"agent started · model {m.get('model_id')} · at most {m.get('max_turns')} turns"
    if kind == "agent.turn":
        tools = ", ".join(str(t) for t in m.get("tools") or []) or "no tools"
        return "turn", f"turn {m.get('turn')} · {tools} · {_money(m.get('cost_usd'))} so far"
    if kind == "agent.tests":
        verdict = "passed" if m.get("passed") else "failed"
        return "tests", f"tests {verdict} · {m.get('command')}"
    if kind == "agent.command_refused":
        return "refused", f"refused: {m.get('command')} ({m.get('reason')})"
    if kind == "approval.requested":
        shown = shown_request(str(m.get("kind", "command")), str(m.get("rule")), str(m.get("command")),
                              limit=_MAX_TEXT // 2)  # the line's own cap must not cut the marker off
        return "other", f"waiting for approval: {shown}"
    if kind == "agent.pushed":
        return "pr", f"pushed {m.get('commit_count')} commit(s) to {m.get('branch')}"
    if kind == "agent.pull_request":
        return "pr", f"pull request {m.get('action', '')} · {m.get('url')}"
    if kind == "agent.finished":
        error = f" · {m['error']}" if m.get("error") else ""
        return "finished", f"agent finished: {m.get('outcome')} · {m.get('turns')} turns · " \
                           f"{_money(m.get('cost_usd'))}{error}"
    return "other", f"{kind} {_kv(m)}".rstrip()


def line(event: TaskEvent) -> Line:
    """The event as one line of text (escaped by the template, like everything else)."""
    kind, text = _text(event.event_type, event.metadata or {})
    return Line(event.timestamp[11:19], kind, text[:_MAX_TEXT])


def timeline(events: Iterable[TaskEvent], *, now: datetime | None = None) -> list[Stage]:
    """Each status the task went through, and how long it stayed there (until now for the current one)."""
    moves = [(e.metadata["to"], e.timestamp) for e in events if e.event_type == "transition" and e.metadata.get("to")]
    now = now or datetime.now(timezone.utc)
    stages = []
    for i, (status, entered) in enumerate(moves):
        last = i == len(moves) - 1
        left = parse_time(moves[i + 1][1]) if not last else now
        terminal = status in ("COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT")
        seconds = 0.0 if last and terminal else max(0.0, (left - parse_time(entered)).total_seconds())
        stages.append(Stage(status, entered[11:19], round(seconds, 1), last))
    return stages


def turn_costs(events: Iterable[TaskEvent]) -> list[tuple[str, float]]:
    """(turns covered, their cost) per turn event: events carry running totals and may skip turns."""
    costs: list[tuple[str, float]] = []
    previous_total, previous_turn = 0.0, 0
    for e in events:
        if e.event_type == "agent.turn" and isinstance(e.metadata.get("cost_usd"), (int, float)):
            total, turn = float(e.metadata["cost_usd"]), int(e.metadata.get("turn") or previous_turn + 1)
            turns = f"turn {turn}" if turn <= previous_turn + 1 else f"turns {previous_turn + 1}–{turn}"
            costs.append((turns, max(0.0, total - previous_total)))
            previous_total, previous_turn = total, turn
    return costs


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    label: str


CHART_WIDTH, CHART_HEIGHT = 320, 80


def chart(costs: list[tuple[str, float]]) -> list[Bar]:
    """Bars of an inline SVG, scaled to the most expensive turn."""
    if not costs:
        return []
    top = max(c for _, c in costs) or 1.0
    width = max(2, CHART_WIDTH // len(costs))
    bars = []
    for i, (turns, cost) in enumerate(costs):
        height = max(1, round(cost / top * (CHART_HEIGHT - 4)))
        bars.append(Bar(i * width, CHART_HEIGHT - height, max(1, width - 1), height, f"{turns}: {_money(cost)}"))
    return bars


def cache_read_share(tokens: Any) -> float | None:
    """The share of prompt tokens served from the cache."""
    if tokens is None:
        return None
    prompt = tokens.input + tokens.cache_read + tokens.cache_write
    return tokens.cache_read / prompt if prompt else None

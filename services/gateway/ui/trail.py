"""A task's audit trail as people read it: one line per event, the time spent in each status, cost per turn."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from shared.clock import parse_time
from shared.tasks.event_words import LINE_CHARS, event_words, money, plain
from shared.tasks.models import TaskEvent
from shared.tasks.states import TERMINAL


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


# The CSS hook of each kind of line; anything else is "other".
_CSS = {"transition": "transition", "agent.turn": "turn", "agent.tests": "tests", "agent.command_refused": "refused",
        "agent.pushed": "pr", "agent.pull_request": "pr", "agent.finished": "finished"}


def line(event: TaskEvent) -> Line:
    """The event as one line of text (escaped by the template, like everything else)."""
    text = plain(event_words(event.event_type, event.metadata))
    return Line(event.timestamp[11:19], _CSS.get(event.event_type, "other"), text[:LINE_CHARS])


def timeline(events: Iterable[TaskEvent], *, now: datetime | None = None) -> list[Stage]:
    """Each status the task went through, and how long it stayed there (until now for the current one)."""
    moves = [(e.metadata["to"], e.timestamp) for e in events if e.event_type == "transition" and e.metadata.get("to")]
    now = now or datetime.now(timezone.utc)
    stages = []
    for i, (status, entered) in enumerate(moves):
        last = i == len(moves) - 1
        left = parse_time(moves[i + 1][1]) if not last else now
        terminal = status in TERMINAL
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
        bars.append(Bar(i * width, CHART_HEIGHT - height, max(1, width - 1), height, f"{turns}: {money(cost)}"))
    return bars


def cache_read_share(tokens: Any) -> float | None:
    """The share of prompt tokens served from the cache."""
    if tokens is None:
        return None
    prompt = tokens.input + tokens.cache_read + tokens.cache_write
    return tokens.cache_read / prompt if prompt else None

"""The event trail the agent writes: redacted, at most one turn event per interval, bounded in total."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from agent.pricing import Usage
from agent.progress import Progress
from agent.relay.meter import CallRecord
from shared.observability.redaction import register_secret

SECRET = "ghp_progressSecret0123456789abcdefXYZ"


@dataclass
class MemoryTrail:
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def append_event(self, task_id: str, event_type: str, metadata: Mapping[str, Any] | None = None, *,
                           event_id: str | None = None) -> None:
        self.events.append((event_type, dict(metadata or {})))


def turn(n: int, total_usd: float = 0.0) -> CallRecord:
    return CallRecord(n, "m", True, n, Usage(input=1), 0.01, total_usd, ["bash"], "tool_use", 0.1)


async def test_turn_events_are_rate_limited_and_the_last_is_flushed() -> None:
    trail, now = MemoryTrail(), [0.0]
    progress = Progress(trail, "t1", min_interval=2.0, max_events=200, stopped=lambda: False, clock=lambda: now[0])
    for n in range(1, 11):  # ten fast turns, 0.5 s apart
        await progress.turn_finished(turn(n, n / 100), Usage(input=n))
        now[0] += 0.5
    await progress.flush()
    turns = [meta["turn"] for kind, meta in trail.events if kind == "agent.turn"]
    assert turns == [1, 5, 9, 10]
    assert trail.events[-1][1] == {"turn": 10, "tools": ["bash"], "tokens": vars(Usage(input=10)),
                                   "cost_usd": 0.1}


async def test_slow_turns_each_get_an_event() -> None:
    trail, now = MemoryTrail(), [0.0]
    progress = Progress(trail, "t1", min_interval=2.0, max_events=200, stopped=lambda: False, clock=lambda: now[0])
    for n in range(1, 6):
        await progress.turn_finished(turn(n), Usage())
        now[0] += 3.0
    assert len(trail.events) == 5


async def test_the_trail_is_bounded_but_keeps_room_for_the_lifecycle_events() -> None:
    trail = MemoryTrail()
    progress = Progress(trail, "t1", min_interval=0.0, max_events=50, stopped=lambda: False)
    for n in range(500):
        await progress.turn_finished(turn(n), Usage())
        await progress.command_refused("bash", {"command": "rm -rf /"}, "no")
    await progress.emit("agent.pushed", {})
    await progress.emit("agent.finished", {})
    assert len(trail.events) <= 50
    assert [kind for kind, _ in trail.events[-2:]] == ["agent.pushed", "agent.finished"]


async def test_events_are_redacted_and_nothing_is_written_once_stopped() -> None:
    register_secret(SECRET)
    trail, stopped = MemoryTrail(), [False]
    progress = Progress(trail, "t1", min_interval=0.0, max_events=50, stopped=lambda: stopped[0])
    await progress.command_refused("bash", {"command": f"curl -H 'Authorization: token {SECRET}' x"}, "no")
    await progress.emit("agent.tests", {"tail": f"token={SECRET}"})
    assert SECRET not in repr(trail.events) and "[REDACTED]" in repr(trail.events)
    stopped[0] = True
    await progress.emit("agent.finished", {})
    assert len(trail.events) == 2

"""The task's event trail as the agent writes it: redacted, rate-limited and bounded."""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Mapping, Protocol, cast

from agent.pricing import Usage
from agent.relay.meter import CallRecord
from shared.aws.errors import StoreUnavailable
from shared.observability.redaction import redact, redact_value
from shared.tasks.event_types import EventType

log = logging.getLogger(__name__)
# Kept free for the lifecycle events (tests, pushed, pull_request, finished) however chatty the loop was.
_RESERVED = 10
_COMMAND_SHOWN = 500


class EventTrail(Protocol):
    """Where the task's events go (the task store's audit trail)."""

    async def append_event(self, task_id: str, event_type: EventType, metadata: Mapping[str, Any] | None = None, *,
                           event_id: str | None = None) -> Any: ...


class Progress:
    """Writes agent.* events; at most one agent.turn per interval and `max_events` in all."""

    def __init__(self, trail: EventTrail, task_id: str, *, min_interval: float, max_events: int,
                 stopped: Callable[[], bool], clock: Callable[[], float] = time.monotonic):
        self._trail = trail
        self._task_id = task_id
        self._min_interval = min_interval
        self._max_events = max_events
        self._stopped = stopped
        self._clock = clock
        self.written = 0
        self._last_turn_at: float | None = None
        self._pending_turn: dict[str, Any] | None = None

    async def emit(self, event_type: EventType, metadata: Mapping[str, Any], *, lifecycle: bool = True) -> None:
        """Append one event unless the task was stopped or the trail's share is used up."""
        limit = self._max_events if lifecycle else self._max_events - _RESERVED
        if self._stopped() or self.written >= limit:
            return
        self.written += 1
        try:
            redacted = cast(dict[str, Any], redact_value(dict(metadata)))
            await self._trail.append_event(self._task_id, event_type, redacted)
        except StoreUnavailable as exc:
            # The trail is for people watching; a lost progress event must not fail the run.
            log.warning("could not write %s event: %s", event_type, exc)

    async def turn_finished(self, record: CallRecord, total: Usage) -> None:
        """Record a finished turn (a relay's main-model call); written now if the last turn event is old enough,
        else kept for flush()."""
        log.info("turn %d done: tools %s, $%.4f so far", record.turn, ", ".join(record.tools) or "none",
                 record.total_usd)
        self._pending_turn = {"turn": record.turn, "tools": record.tools, "tokens": vars(total).copy(),
                              "cost_usd": round(record.total_usd, 6)}
        now = self._clock()
        if self._last_turn_at is None or now - self._last_turn_at >= self._min_interval:
            self._last_turn_at = now
            await self._write_pending_turn()

    async def flush(self) -> None:
        """Write the newest turn event if it was held back by the rate limit."""
        await self._write_pending_turn()

    async def _write_pending_turn(self) -> None:
        pending, self._pending_turn = self._pending_turn, None
        if pending:
            await self.emit("agent.turn", pending, lifecycle=False)

    async def command_refused(self, tool: str, tool_input: dict[str, Any], reason: str) -> None:
        """Put a refused command in the trail, so people can see what the model tried."""
        command = redact(str(tool_input.get("command", tool_input)))[:_COMMAND_SHOWN]
        await self.emit("agent.command_refused", {"tool": tool, "command": command, "reason": reason},
                        lifecycle=False)

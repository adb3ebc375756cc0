"""The egress proxy's decisions as task events, so a user sees why an install failed."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Mapping

from agent.sandbox.egress_policy import Verdict
from shared.tasks.event_types import EventType

Emit = Callable[[EventType, Mapping[str, Any]], Awaitable[None]]


class EgressTrail:
    """Writes `sandbox.egress` {host, port, verdict, reason} once per destination, verdict and reason."""

    def __init__(self, emit: Emit):
        self._emit = emit
        self._reported: set[tuple[str, int, bool, str]] = set()

    async def __call__(self, host: str, port: int, verdict: Verdict) -> None:
        key = (host, port, verdict.allowed, verdict.reason)
        if key in self._reported:
            return  # an install opens hundreds of connections; each destination is news once
        self._reported.add(key)
        await self._emit("sandbox.egress", {"host": host, "port": port, "reason": verdict.reason or None,
                                            "verdict": "allowed" if verdict.allowed else "refused"})

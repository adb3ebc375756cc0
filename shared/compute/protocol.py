"""The ComputeStrategy interface: where an agent session runs."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class SessionState(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    STOPPED = "STOPPED"
    UNKNOWN = "UNKNOWN"


class ComputeStrategy(Protocol):
    async def start(self, task_id: str) -> str:
        """Start (or find the already started) session of a task; return its handle."""

    async def stop(self, handle: str, *, reason: str) -> None:
        """Stop a session; stopping a stopped session is a no-op."""

    async def describe(self, handle: str) -> SessionState: ...

"""Live steering as the panel sees it: nudges and approval requests, behind one narrow adapter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PendingRequest:
    task_id: str
    request_id: str
    repo: str
    summary: str  # all of what is held back, made visible (shared.steering.display)
    requested_at: str
    kind: str = "command"


class Steering(Protocol):
    async def pending(self, user_id: str) -> list[PendingRequest]: ...

    async def decide(self, user_id: str, task_id: str, request_id: str, *, approve: bool) -> None: ...

    async def nudge(self, user_id: str, task_id: str, message: str) -> None: ...

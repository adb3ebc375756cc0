"""Live steering as the panel sees it: nudges and approval requests, behind one narrow adapter.

The gateway's nudge and approval functions plug in here; until they exist the panel shows that the
feature is not installed instead of offering buttons that cannot work."""

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
    available: bool

    async def pending(self, user_id: str) -> list[PendingRequest]: ...

    async def decide(self, user_id: str, task_id: str, request_id: str, *, approve: bool) -> None: ...

    async def nudge(self, user_id: str, task_id: str, message: str) -> None: ...


class NotInstalled:
    """The gateway has no steering routes: nothing is pending and nothing can be sent."""

    available = False

    async def pending(self, user_id: str) -> list[PendingRequest]:
        return []

    async def decide(self, user_id: str, task_id: str, request_id: str, *, approve: bool) -> None:
        raise NotImplementedError("approvals are not installed in this gateway")

    async def nudge(self, user_id: str, task_id: str, message: str) -> None:
        raise NotImplementedError("nudges are not installed in this gateway")

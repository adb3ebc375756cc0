"""The TaskStore interface: every read and conditional write of task state."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Collection, Mapping, Protocol, Sequence

from shared.tasks.event_types import EventType
from shared.tasks.models import Task, TaskEvent, UserConcurrency
from shared.tasks.states import TaskStatus


class TaskTransitions(Protocol):
    """Transitions and their outbox: what the Outbox needs of a store."""

    async def transition(
        self,
        task_id: str,
        target: TaskStatus,
        *,
        expected: Collection[TaskStatus] | None = None,
        changes: Mapping[str, Any] | None = None,
        max_active: int | None = None,
        event_metadata: Mapping[str, Any] | None = None,
        announce: Sequence[Any] = (),
    ) -> Task:
        """Move a task to `target` in one conditional write, with its slot and the events it announces.

        The state's own notice and a SlotReleased for a released slot are added to `announce` (see
        shared.tasks.announcements); all are written pending to the task's outbox in the same write.
        """

    async def mark_sent(self, task_id: str, entry_ids: Sequence[str]) -> None:
        """Remove published entries from the task's outbox; entries already removed are ignored."""

    async def pending_outbox(self, *, updated_before: str, limit: int = 100) -> list[Task]:
        """Tasks with outbox entries still pending, last changed before `updated_before`."""


class TaskStore(TaskTransitions, Protocol):
    """Tasks, their audit trail and the per-user concurrency counters."""

    async def create(self, task: Task, *, announce: Sequence[Any] = ()) -> Task:
        """Write a new SUBMITTED task, its first event and `announce` pending.

        IdempotencyConflict if its key is taken."""

    async def get(self, task_id: str) -> Task | None: ...

    async def update(self, task_id: str, changes: Mapping[str, Any], *, expected_status: TaskStatus) -> Task:
        """Change fields of a task only while it is in `expected_status`."""

    async def append_event(
        self, task_id: str, event_type: EventType, metadata: Mapping[str, Any] | None = None, *,
        event_id: str | None = None,
    ) -> TaskEvent | None:
        """Add an event to the trail; with an explicit id, a repeat is ignored (returns None)."""

    async def list_events(
        self, task_id: str, *, limit: int = 100, next_token: str | None = None
    ) -> tuple[list[TaskEvent], str | None]: ...

    async def tasks_in_status(
        self, status: TaskStatus, *, created_before: str | None = None, limit: int | None = None
    ) -> list[Task]:
        """Tasks in one status, oldest first."""

    async def oldest_queued(self, user_id: str, *, limit: int = 10) -> list[Task]:
        """A user's QUEUED tasks, oldest first."""

    async def list_for_user(
        self,
        user_id: str,
        *,
        statuses: Collection[TaskStatus] | None = None,
        repo: str | None = None,
        limit: int = 20,
        next_token: str | None = None,
    ) -> tuple[list[Task], str | None]:
        """One page of a user's tasks, newest first, optionally only some statuses and one repo.

        The token is bound to the user and the filters: InvalidToken for a token of any other listing.
        """

    async def get_concurrency(self, user_id: str) -> UserConcurrency: ...

    async def list_concurrency(self) -> list[UserConcurrency]: ...

    async def correct_active_count(self, user_id: str, *, observed: int, actual: int) -> bool:
        """Set the counter to `actual` only if it still reads `observed`; False if it moved."""


def listing_fingerprint(user_id: str, statuses: Collection[TaskStatus] | None, repo: str | None) -> str:
    """What a list_for_user next_token is bound to: one user and one set of filters."""
    raw = json.dumps([user_id, sorted(TaskStatus(s).value for s in statuses or ()), repo or ""])
    return hashlib.sha256(raw.encode()).hexdigest()[:32]

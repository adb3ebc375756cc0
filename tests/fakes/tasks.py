"""An in-memory TaskStore with the same conditional semantics as the DynamoDB one."""

from __future__ import annotations

import asyncio
from typing import Any, Collection, Mapping, Sequence

from shared.aws.pagination import InvalidToken, decode_token, encode_token
from shared.clock import utcnow
from shared.tasks.errors import IdempotencyConflict, SlotUnavailable, TaskNotFound, TransitionConflict
from shared.tasks.models import Task, TaskEvent, UserConcurrency
from shared.tasks.pending import OUTBOX_PENDING, outbox_entries
from shared.tasks.plan import plan_transition, transition_event
from shared.tasks.states import TaskStatus
from shared.tasks.store import listing_fingerprint


class InMemoryTaskStore:
    """TaskStore for unit tests; every write is atomic under one lock."""

    def __init__(self) -> None:
        self.tasks: dict[str, Task] = {}
        self.events: dict[str, list[TaskEvent]] = {}
        self.counters: dict[str, UserConcurrency] = {}
        self.idempotency: dict[str, tuple[str, str]] = {}
        self._lock = asyncio.Lock()

    async def create(self, task: Task, *, announce: Sequence[Any] = ()) -> Task:
        async with self._lock:
            if task.task_id in self.tasks:
                raise ValueError("task exists")
            if task.idempotency_key and task.idempotency_key in self.idempotency:
                task_id, user_id = self.idempotency[task.idempotency_key]
                raise IdempotencyConflict(task.idempotency_key, task_id, user_id)
            if task.idempotency_key:
                self.idempotency[task.idempotency_key] = (task.task_id, task.user_id)
            pending = outbox_entries(announce, task.created_at)
            task = task.model_copy(update={"outbox": pending, "outbox_pending": OUTBOX_PENDING if pending else None})
            self.tasks[task.task_id] = task
            self.events.setdefault(task.task_id, []).append(transition_event(task, None, {}))
            return task

    async def get(self, task_id: str) -> Task | None:
        return self.tasks.get(task_id)

    async def transition(self, task_id: str, target: TaskStatus, *, expected: Collection[TaskStatus] | None = None,
                         changes: Mapping[str, Any] | None = None, max_active: int | None = None,
                         event_metadata: Mapping[str, Any] | None = None, announce: Sequence[Any] = ()) -> Task:
        async with self._lock:
            current = self.tasks.get(task_id)
            if current is None:
                raise TaskNotFound(task_id)
            plan = plan_transition(current, target, expected=expected, changes=changes, max_active=max_active,
                                   event_metadata=event_metadata, announce=announce)
            counter = self.counters.setdefault(current.user_id, UserConcurrency(user_id=current.user_id))
            if plan.acquire:
                if counter.active_count >= (max_active or 0):
                    raise SlotUnavailable(current.user_id, max_active or 0)
                counter.active_count += 1
                counter.updated_at = plan.new.updated_at
            if plan.release and counter.active_count > 0:
                counter.active_count -= 1
                counter.updated_at = plan.new.updated_at
            self.tasks[task_id] = plan.new
            self.events.setdefault(task_id, []).append(plan.event)
            return plan.new

    async def mark_sent(self, task_id: str, entry_ids: Sequence[str]) -> None:
        async with self._lock:
            task = self.tasks.get(task_id)
            if task is None or task.outbox is None:
                return
            left = {k: v for k, v in task.outbox.items() if k not in set(entry_ids)}
            self.tasks[task_id] = task.model_copy(update={"outbox": left,
                                                          "outbox_pending": task.outbox_pending if left else None})

    async def pending_outbox(self, *, updated_before: str, limit: int = 100) -> list[Task]:
        found = sorted((t for t in self.tasks.values() if t.outbox_pending and t.updated_at < updated_before),
                       key=lambda t: t.updated_at)
        return found[:limit]

    async def update(self, task_id: str, changes: Mapping[str, Any], *, expected_status: TaskStatus) -> Task:
        async with self._lock:
            current = self.tasks.get(task_id)
            if current is None:
                raise TaskNotFound(task_id)
            if current.status != expected_status:
                raise TransitionConflict(current, None, f"not {expected_status}")
            new = Task.model_validate({**current.model_dump(), **changes})
            self.tasks[task_id] = new
            return new

    async def append_event(self, task_id: str, event_type: str, metadata: Mapping[str, Any] | None = None, *,
                           event_id: str | None = None) -> TaskEvent | None:
        trail = self.events.setdefault(task_id, [])
        if event_id and any(e.event_id == event_id for e in trail):
            return None
        event = TaskEvent(task_id=task_id, event_type=event_type, metadata=dict(metadata or {}))
        if event_id:
            event = event.model_copy(update={"event_id": event_id})
        trail.append(event)
        trail.sort(key=lambda e: e.event_id)
        return event

    async def list_events(self, task_id: str, *, limit: int = 100, next_token: str | None = None):
        trail = self.events.get(task_id, [])
        start = 0
        if next_token:
            if not next_token.isdigit():
                raise InvalidToken("next_token is not valid")
            start = int(next_token)
        page = trail[start:start + limit]
        more = start + limit < len(trail)
        return page, str(start + limit) if more else None

    async def tasks_in_status(self, status: TaskStatus, *, created_before: str | None = None,
                              limit: int | None = None) -> list[Task]:
        found = sorted((t for t in self.tasks.values() if t.status == status and
                        (created_before is None or t.created_at < created_before)), key=lambda t: t.created_at)
        return found[:limit] if limit else found

    async def oldest_queued(self, user_id: str, *, limit: int = 10) -> list[Task]:
        queued = [t for t in await self.tasks_in_status(TaskStatus.QUEUED) if t.user_id == user_id]
        return queued[:limit]

    async def list_for_user(self, user_id: str, *, statuses: Collection[TaskStatus] | None = None,
                            repo: str | None = None, limit: int = 20,
                            next_token: str | None = None) -> tuple[list[Task], str | None]:
        wanted = {TaskStatus(s) for s in statuses or ()}
        listing = listing_fingerprint(user_id, wanted, repo)
        newest_first = sorted((t for t in self.tasks.values() if t.user_id == user_id
                               and (not wanted or t.status in wanted) and (not repo or t.repo == repo)),
                              key=lambda t: (t.created_at, t.task_id), reverse=True)
        cursor = decode_token(next_token)
        if cursor is not None:
            key = cursor.get("k")
            if cursor.get("l") != listing or not isinstance(key, dict) or key.get("user_id") != user_id:
                raise InvalidToken("next_token belongs to another listing")
            position = (str(key.get("created_at")), str(key.get("task_id")))
            newest_first = [t for t in newest_first if (t.created_at, t.task_id) < position]
        page = newest_first[:limit]
        if len(newest_first) <= limit:
            return page, None
        last = page[-1]
        return page, encode_token({"l": listing, "k": {"user_id": user_id, "created_at": last.created_at,
                                                      "task_id": last.task_id}})

    async def get_concurrency(self, user_id: str) -> UserConcurrency:
        return self.counters.get(user_id, UserConcurrency(user_id=user_id)).model_copy()

    async def list_concurrency(self) -> list[UserConcurrency]:
        return [c.model_copy() for c in self.counters.values()]

    async def correct_active_count(self, user_id: str, *, observed: int, actual: int) -> bool:
        async with self._lock:
            counter = self.counters.setdefault(user_id, UserConcurrency(user_id=user_id))
            if counter.active_count != observed:
                return False
            counter.active_count = actual
            counter.updated_at = utcnow()
            return True

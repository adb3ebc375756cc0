"""Concurrency-counter drift: the counter must equal the number of slot-holding tasks."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from shared.clock import parse_time
from shared.tasks.models import Task, UserConcurrency
from shared.tasks.states import ACTIVE, TaskStatus, progress
from shared.tasks.store import TaskStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DriftCorrection:
    user_id: str
    observed: int
    actual: int


ActiveTasks = dict[TaskStatus, list[Task]]


async def read_active(store: TaskStore) -> ActiveTasks:
    """Every non-terminal task, by status: one read a tick, shared by the drift check and the repairs.

    Statuses are read in pipeline order. Tasks only move forward, so one that moves while we read is
    seen in a status read after the move (perhaps twice, never not at all); a slot taken or released
    meanwhile changes the counter, which was read first, and the correction's condition then fails.
    """
    return {status: await store.tasks_in_status(status) for status in sorted(ACTIVE, key=progress)}


def slot_holders(active: ActiveTasks) -> Counter[str]:
    """How many slot-holding, non-terminal tasks each user has (a task seen twice counts once)."""
    holders = {task.task_id: task.user_id for tasks in active.values() for task in tasks if task.slot_held}
    return Counter(holders.values())


async def correct_drift(store: TaskStore, *, grace_seconds: float, counters: list[UserConcurrency] | None = None,
                        active: ActiveTasks | None = None) -> list[DriftCorrection]:
    """Set every drifted counter to the true count, each conditional on the value read.

    The counters must be read before the tasks: a slot taken in between then shows in the counter
    only, and the conditional write (on the counter as read) cannot undo it.
    """
    rows = {row.user_id: row for row in (counters if counters is not None else await store.list_concurrency())}
    holders = slot_holders(active if active is not None else await read_active(store))
    recent = datetime.now(timezone.utc) - timedelta(seconds=grace_seconds)
    corrections: list[DriftCorrection] = []
    for user_id in set(rows) | set(holders):
        row = rows.get(user_id)
        observed = row.active_count if row else 0
        actual = holders.get(user_id, 0)
        if observed == actual:
            continue
        if row and row.updated_at and parse_time(row.updated_at) > recent:
            continue  # the index may not show a slot taken a moment ago; look again next tick
        if await store.correct_active_count(user_id, observed=observed, actual=actual):
            log.warning("corrected concurrency drift", extra={"user_id": user_id, "observed": observed,
                                                              "actual": actual})
            corrections.append(DriftCorrection(user_id, observed, actual))
    return corrections

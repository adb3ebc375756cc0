"""Concurrency-counter drift: the counter must equal the number of slot-holding tasks."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from shared.tasks.models import parse_time
from shared.tasks.states import ACTIVE
from shared.tasks.store import TaskStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DriftCorrection:
    user_id: str
    observed: int
    actual: int


async def slot_holders(store: TaskStore) -> Counter[str]:
    """How many slot-holding, non-terminal tasks each user has."""
    holders: Counter[str] = Counter()
    for status in ACTIVE:
        for task in await store.tasks_in_status(status):
            if task.slot_held:
                holders[task.user_id] += 1
    return holders


async def correct_drift(store: TaskStore, *, grace_seconds: float) -> list[DriftCorrection]:
    """Set every drifted counter to the true count, each conditional on the value read."""
    counters = {row.user_id: row for row in await store.list_concurrency()}
    holders = await slot_holders(store)
    recent = datetime.now(timezone.utc) - timedelta(seconds=grace_seconds)
    corrections: list[DriftCorrection] = []
    for user_id in set(counters) | set(holders):
        row = counters.get(user_id)
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

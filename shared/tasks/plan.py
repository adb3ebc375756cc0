"""What one transition changes, decided once for every TaskStore: a pure function of the task as read."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Collection, Mapping, Sequence

from shared.clock import utcnow
from shared.tasks.announcements import implied_events
from shared.tasks.errors import TransitionConflict
from shared.tasks.models import TERMINAL_TTL_SECONDS, Task, TaskEvent
from shared.tasks.pending import OUTBOX_PENDING, OutboxEntry, outbox_entries
from shared.tasks.states import TaskStatus, acquires_slot, can_transition


@dataclass(frozen=True)
class TransitionPlan:
    """The task before and after, the fields written, and the slot and outbox work that goes with it."""

    current: Task
    new: Task
    fields: frozenset[str]
    event: TaskEvent
    acquire: bool
    release: bool
    max_active: int | None
    announced: dict[str, OutboxEntry] = field(default_factory=dict)


def transition_event(task: Task, previous: TaskStatus | None, metadata: Mapping[str, Any]) -> TaskEvent:
    """The audit-trail entry of a transition (or of creation, when `previous` is None)."""
    meta = {"from": previous.value if previous else None, "to": task.status.value, **metadata}
    return TaskEvent(task_id=task.task_id, event_type="transition", timestamp=task.updated_at,
                     metadata={k: v for k, v in meta.items() if v is not None})


def plan_transition(
    current: Task,
    target: TaskStatus,
    *,
    expected: Collection[TaskStatus] | None = None,
    changes: Mapping[str, Any] | None = None,
    max_active: int | None = None,
    event_metadata: Mapping[str, Any] | None = None,
    announce: Sequence[Any] = (),
) -> TransitionPlan:
    """Check a transition against the state machine and compute everything it writes."""
    if expected is not None and current.status not in expected:
        raise TransitionConflict(current, target, f"expected {sorted(s.value for s in expected)}")
    if not can_transition(current.status, target):
        raise TransitionConflict(current, target, "transition not allowed")
    # An evaluation attempt takes none of its owner's slots: its run and the platform's eval cap bound it.
    acquire = acquires_slot(target) and current.channel_source != "eval"
    if acquire and max_active is None:
        raise ValueError("admission needs max_active")
    now = utcnow()
    update: dict[str, Any] = {**(changes or {}), "status": target, "updated_at": now}
    if acquire:
        update["slot_held"] = True
    if target.is_terminal:
        update["slot_held"] = False
        update.setdefault("completed_at", now)
        update["expires_at"] = int(time.time()) + TERMINAL_TTL_SECONDS
    release = target.is_terminal and current.slot_held
    new = Task.model_validate({**current.model_dump(), **update})  # re-validates the changed fields
    implied = implied_events(new, released=release, metadata=event_metadata or {})
    announced = outbox_entries([*implied, *announce], now)
    if announced:
        new = new.model_copy(update={"outbox": {**(current.outbox or {}), **announced},
                                     "outbox_pending": OUTBOX_PENDING})
        update.update(outbox=new.outbox, outbox_pending=OUTBOX_PENDING)
    return TransitionPlan(current=current, new=new, fields=frozenset(update),
                          event=transition_event(new, current.status, event_metadata or {}),
                          acquire=acquire, release=release, max_active=max_active, announced=announced)

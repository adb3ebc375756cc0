"""The events a transition implies by itself, decided from the task it produces: a table, one row per state."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from shared.events.models import (
    EventDetail,
    SlotReleased,
    TaskCancelled,
    TaskCompleted,
    TaskFailed,
    TaskTimedOut,
)
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S

Notice = Callable[[Task, Mapping[str, Any]], EventDetail]


def _terminal(kind: type) -> Notice:
    return lambda t, _meta: kind(task_id=t.task_id, user_id=t.user_id, status=t.status.value,
                                 error_code=t.error_code, pr_url=t.pr_url, eval_id=t.eval_id)


# Entering a state announces this; a new state with a notice is one more row.
NOTICES: dict[S, Notice] = {
    S.COMPLETED: _terminal(TaskCompleted),
    S.FAILED: _terminal(TaskFailed),
    S.TIMED_OUT: _terminal(TaskTimedOut),
    S.CANCELLED: lambda t, meta: TaskCancelled(task_id=t.task_id, user_id=t.user_id, reason=meta.get("reason"),
                                               eval_id=t.eval_id),
}


def implied_events(new: Task, *, released: bool, metadata: Mapping[str, Any]) -> list[EventDetail]:
    """The state's notice, then SlotReleased when the transition gave back the user's slot."""
    notice = NOTICES.get(new.status)
    events = [notice(new, metadata)] if notice else []
    if released:
        events.append(SlotReleased(task_id=new.task_id, user_id=new.user_id))
    return events

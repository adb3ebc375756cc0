"""Handing a task back to its agent once its approval request is decided."""

from __future__ import annotations

from typing import Any, Collection, Mapping, Protocol

from shared.steering.models import Approval
from shared.tasks.errors import TransitionConflict
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus


class TaskTransitions(Protocol):
    async def transition(self, task_id: str, target: TaskStatus, *,
                         expected: Collection[TaskStatus] | None = None, changes: Mapping[str, Any] | None = None,
                         max_active: int | None = None, event_metadata: Mapping[str, Any] | None = None) -> Task: ...


async def resume_task(tasks: TaskTransitions, approval: Approval) -> Task | None:
    """AWAITING_APPROVAL → RUNNING after `approval` was decided; None if another party already moved it
    (the gateway, the agent and the reconciler may all try) or the task ended meanwhile."""
    try:
        return await tasks.transition(approval.task_id, TaskStatus.RUNNING, expected={TaskStatus.AWAITING_APPROVAL},
                                      event_metadata={"approval_id": approval.approval_id,
                                                      "decision": approval.status})
    except TransitionConflict:
        return None

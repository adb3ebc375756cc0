"""Handing a task back to its agent once its approval request is decided."""

from __future__ import annotations

from shared.steering.models import Approval
from shared.tasks.errors import TransitionConflict
from shared.tasks.models import Task
from shared.tasks.outbox import Outbox
from shared.tasks.states import TaskStatus


async def resume_task(outbox: Outbox, approval: Approval) -> Task | None:
    """AWAITING_APPROVAL → RUNNING after `approval` was decided; None if another party already moved it
    (the gateway, the agent and the reconciler may all try) or the task ended meanwhile."""
    try:
        return await outbox.transition(approval.task_id, TaskStatus.RUNNING, expected={TaskStatus.AWAITING_APPROVAL},
                                       event_metadata={"approval_id": approval.approval_id,
                                                       "decision": approval.status})
    except TransitionConflict:
        return None

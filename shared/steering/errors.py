"""Errors of nudges and approvals."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.steering.models import Approval
    from shared.tasks.states import TaskStatus


class SteeringError(Exception):
    """Base of steering errors."""


class TaskNotSteerable(SteeringError):
    """The task is not in the state the write needs (e.g. a nudge for a task no longer RUNNING)."""

    def __init__(self, task_id: str, status: "TaskStatus | None"):
        super().__init__(f"task {task_id} is {status.value if status else 'missing'}")
        self.task_id = task_id
        self.status = status


class DecisionRefused(SteeringError):
    """An approval request that is not open for this decision; carries what was found."""

    def __init__(self, approval_id: str, approval: "Approval | None", status: "TaskStatus | None"):
        state = approval.status if approval else "unknown"
        super().__init__(f"approval {approval_id} is {state}")
        self.approval_id = approval_id
        self.approval = approval
        self.task_status = status

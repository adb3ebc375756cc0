"""Errors of the task store and state machine."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.tasks.models import Task
    from shared.tasks.states import TaskStatus


class TaskError(Exception):
    """Base of task store errors."""


class TaskNotFound(TaskError):
    def __init__(self, task_id: str):
        super().__init__(f"task {task_id} not found")
        self.task_id = task_id


class TransitionConflict(TaskError):
    """A conditional write found the task elsewhere than expected; carries what it found."""

    def __init__(self, current: "Task", target: "TaskStatus | None", reason: str):
        super().__init__(f"task {current.task_id} is {current.status}, cannot go to {target}: {reason}")
        self.current = current
        self.target = target
        self.reason = reason


class SlotUnavailable(TaskError):
    """The user already holds as many slots as allowed."""

    def __init__(self, user_id: str, max_active: int):
        super().__init__(f"user {user_id} is at the concurrency cap of {max_active}")
        self.user_id = user_id
        self.max_active = max_active


class IdempotencyConflict(TaskError):
    """An idempotency key is already bound to a task."""

    def __init__(self, key: str, task_id: str, user_id: str):
        super().__init__(f"idempotency key already used for task {task_id}")
        self.key = key
        self.task_id = task_id
        self.user_id = user_id

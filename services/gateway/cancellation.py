"""Cancelling a task from any non-terminal state but FINALIZING, as one conditional transition."""

from __future__ import annotations

from services.gateway.deps import GatewayDeps
from services.gateway.errors import ApiError
from services.gateway.notify import announce
from shared.events.models import SlotReleased, TaskCancelled
from shared.githost.status_comment import try_post_status
from shared.tasks.errors import TaskNotFound, TransitionConflict
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus

CANCELLABLE = frozenset({TaskStatus.SUBMITTED, TaskStatus.QUEUED, TaskStatus.HYDRATING, TaskStatus.RUNNING,
                         TaskStatus.AWAITING_APPROVAL})
_ATTEMPTS = 5


def _refuse(task: Task) -> ApiError:
    if task.status == TaskStatus.FINALIZING:
        return ApiError("TASK_ALREADY_TERMINAL", f"task {task.task_id} is FINALIZING: the agent has finished and its "
                        "result is being recorded, so it can no longer be cancelled")
    return ApiError("TASK_ALREADY_TERMINAL", f"task {task.task_id} is already {task.status.value}")


async def cancel_task(d: GatewayDeps, task: Task) -> Task:
    """CANCELLED, with the slot released in the same write; then tell the dispatcher to stop compute,
    and the hydrator that a slot is free. A task that moves meanwhile is re-read and judged again."""
    current = task
    for _ in range(_ATTEMPTS):
        if current.status not in CANCELLABLE:
            raise _refuse(current)
        # Pinning the status we read tells us exactly whether this write released a slot.
        try:
            cancelled = await d.tasks.transition(current.task_id, TaskStatus.CANCELLED, expected={current.status},
                                                 event_metadata={"reason": "cancelled by user"})
        except TransitionConflict as exc:
            current = exc.current
            continue
        except TaskNotFound as exc:
            raise ApiError("TASK_NOT_FOUND", f"task {task.task_id} not found") from exc
        events = [TaskCancelled(task_id=cancelled.task_id, user_id=cancelled.user_id, reason="cancelled by user")]
        if current.slot_held:
            events.append(SlotReleased(task_id=cancelled.task_id, user_id=cancelled.user_id))
        await announce(d.bus, *events)
        await try_post_status(d.git, cancelled)
        return cancelled
    raise ApiError("SERVICE_UNAVAILABLE", f"task {task.task_id} keeps changing state; retry the cancellation")

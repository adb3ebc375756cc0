"""Cancelling a task from any non-terminal state but FINALIZING, as one conditional transition."""

from __future__ import annotations

from services.gateway.deps import GatewayDeps
from services.gateway.notify import announce, outbox
from services.gateway.refusals import NotCancellable, TryAgainShortly
from shared.githost.status_comment import try_post_status
from shared.tasks.errors import TransitionConflict
from shared.tasks.models import Task
from shared.tasks.states import CANCELLABLE, TaskStatus

_ATTEMPTS = 5


def _refuse(task: Task) -> NotCancellable:
    if task.status == TaskStatus.FINALIZING:
        return NotCancellable(f"task {task.task_id} is FINALIZING: the agent has finished and its "
                              "result is being recorded, so it can no longer be cancelled")
    return NotCancellable(f"task {task.task_id} is already {task.status.value}")


async def cancel_task(d: GatewayDeps, task: Task) -> Task:
    """CANCELLED, with the slot released in the same write; then tell the dispatcher to stop compute,
    and the hydrator that a slot is free. A task that moves meanwhile is re-read and judged again."""
    current, box = task, outbox(d.tasks, d.bus)
    for _ in range(_ATTEMPTS):
        if current.status not in CANCELLABLE:
            raise _refuse(current)
        # Pinning the status we read; the write announces TaskCancelled, and SlotReleased if it freed one.
        try:
            cancelled = await box.commit(current.task_id, TaskStatus.CANCELLED, expected={current.status},
                                         event_metadata={"reason": "cancelled by user"})
        except TransitionConflict as exc:
            current = exc.current
            continue
        await announce(box, cancelled)
        await try_post_status(d.git, cancelled)
        return cancelled
    raise TryAgainShortly(f"task {task.task_id} keeps changing state; retry the cancellation")

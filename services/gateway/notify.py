"""Publishing what a committed change announced, without making the caller's answer depend on the bus."""

from __future__ import annotations

from shared.events.bus import EventPublisher
from shared.tasks.models import Task
from shared.tasks.outbox import Outbox
from shared.tasks.store import TaskStore


def outbox(tasks: TaskStore, bus: EventPublisher) -> Outbox:
    """The gateway's path to transitions and their announcements."""
    return Outbox(tasks, bus)


async def announce(box: Outbox, task: Task) -> bool:
    """Publish the task's pending events; on failure they stay pending and the reconciler relays them,
    so a request whose change is committed still succeeds."""
    return await box.flush_quietly(task)

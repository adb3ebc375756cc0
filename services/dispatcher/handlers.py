"""Starting agent sessions for hydrated tasks, and stopping them for cancelled ones."""

from __future__ import annotations

import logging

from shared.clock import utcnow
from shared.compute.errors import ComputeStartFailed
from shared.compute.protocol import ComputeStrategy
from shared.events.bus import EventPublisher
from shared.events.models import TaskCancelled, TaskHydrated
from shared.messaging.errors import RetryLater
from shared.messaging.routing import routing_table
from shared.observability.metrics import MetricsSink, NullMetrics
from shared.tasks.errors import TaskNotFound, TransitionConflict
from shared.tasks.outbox import Outbox
from shared.tasks.states import TaskStatus as S
from shared.tasks.store import TaskStore

log = logging.getLogger(__name__)


class Dispatcher:
    """Handles TaskHydrated and TaskCancelled."""

    def __init__(self, store: TaskStore, compute: ComputeStrategy, bus: EventPublisher,
                 metrics: MetricsSink | None = None):
        self._metrics = metrics or NullMetrics()
        self._store = store
        self._compute = compute
        self._outbox = Outbox(store, bus, self._metrics)

    async def on_hydrated(self, event: TaskHydrated) -> None:
        task = await self._store.get(event.task_id)
        if task is None:
            raise TaskNotFound(event.task_id)
        await self._outbox.recover(task)  # a failure notice an earlier attempt committed but did not publish
        if task.status != S.HYDRATING:
            log.info("task not hydrating; nothing to start", extra={"status": task.status.value})
            return
        try:
            handle = await self._compute.start(task.task_id)
        except ComputeStartFailed as exc:
            if exc.retryable:
                raise RetryLater(str(exc)) from exc
            await self._outbox.transition(
                task.task_id, S.FAILED, expected={S.HYDRATING},
                changes={"error_code": "COMPUTE_START_FAILED", "error_message": str(exc)})
            return
        try:
            await self._outbox.transition(task.task_id, S.RUNNING, expected={S.HYDRATING},
                                          changes={"compute_handle": handle, "started_at": utcnow()},
                                          event_metadata={"compute_handle": handle})
        except TransitionConflict as exc:
            if exc.current.status != S.RUNNING:
                # Cancelled (or failed) while the session started: it must not keep running.
                await self._compute.stop(handle, reason=f"task is {exc.current.status.value}")
            raise

    async def on_cancelled(self, event: TaskCancelled) -> None:
        task = await self._store.get(event.task_id)
        if task is None:
            raise TaskNotFound(event.task_id)
        if task.compute_handle:
            await self._compute.stop(task.compute_handle, reason=event.reason or "cancelled")
            await self._store.append_event(task.task_id, "compute.stop_requested",
                                           {"compute_handle": task.compute_handle})


HANDLERS = routing_table("dispatcher", {TaskHydrated: Dispatcher.on_hydrated, TaskCancelled: Dispatcher.on_cancelled})

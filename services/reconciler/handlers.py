"""The reconciler: periodic repair (ReconcileTick), and counting evaluation attempts as their tasks end."""

from __future__ import annotations

import logging

from services.reconciler.drift import correct_drift, read_active
from services.reconciler.repairs import StuckTaskRepairs
from services.reconciler.schedules import ScheduleRunner
from services.reconciler.settings import ReconcilerSettings
from shared.evals.driver import EvalDriver
from shared.events.models import ReconcileTick, TaskCancelled, TaskCompleted, TaskFailed, TaskTerminal, TaskTimedOut
from shared.messaging.routing import routing_table
from shared.observability.metric_names import DRIFT_CORRECTIONS
from shared.observability.metrics import MetricsSink
from shared.tasks.store import TaskStore

log = logging.getLogger(__name__)


class Reconciler:
    """Handles ReconcileTick (counter drift, stuck tasks, due schedules, evaluation runs) and the end of every
    task (an evaluation attempt's end is counted and starts the next)."""

    def __init__(self, store: TaskStore, metrics: MetricsSink, settings: ReconcilerSettings,
                 repairs: StuckTaskRepairs | None = None, schedules: ScheduleRunner | None = None,
                 evals: EvalDriver | None = None):
        self._evals = evals
        self._store = store
        self._metrics = metrics
        self._settings = settings
        self._repairs = repairs
        self._schedules = schedules

    async def on_tick(self, event: ReconcileTick) -> None:
        await self.tick()

    async def on_task_ended(self, event: TaskTerminal | TaskCancelled) -> None:
        """An evaluation attempt ended: count it (once, however often the event comes) and start what it frees.
        Other tasks' ends are not read (an attempt whose event lost its eval_id is counted by the next tick)."""
        if self._evals is None or event.eval_id is None:
            return
        task = await self._store.get(event.task_id)
        if task is not None and task.eval_id is not None:
            await self._evals.count(task)

    async def tick(self) -> dict[str, int]:
        counters = await self._store.list_concurrency()  # before the tasks: see correct_drift
        active = await read_active(self._store)
        corrections = await correct_drift(self._store, grace_seconds=self._settings.drift_grace_seconds,
                                          counters=counters, active=active)
        for c in corrections:
            self._metrics.count(DRIFT_CORRECTIONS, 1, user_id=c.user_id, delta=c.actual - c.observed)
        # Repairs act on the same snapshot; each of their writes is conditional on the task as read.
        summary: dict[str, int] = await self._repairs.run(active=active) if self._repairs is not None else {}
        summary["drift_corrections"] = len(corrections)
        if self._schedules is not None:
            summary.update(await self._schedules.run())
        if self._evals is not None:
            summary["eval_runs"] = await self._evals.repair_all()
        log.info("reconcile tick done", extra=summary)
        return summary


HANDLERS = routing_table("reconciler", {
    ReconcileTick: Reconciler.on_tick, TaskCompleted: Reconciler.on_task_ended, TaskFailed: Reconciler.on_task_ended,
    TaskTimedOut: Reconciler.on_task_ended, TaskCancelled: Reconciler.on_task_ended})

"""The reconciler's periodic repair, driven by ReconcileTick."""

from __future__ import annotations

import logging

from pydantic import BaseModel

from services.reconciler.drift import correct_drift
from services.reconciler.repairs import StuckTaskRepairs
from services.reconciler.settings import ReconcilerSettings
from shared.events.models import ReconcileTick
from shared.messaging.errors import PoisonMessage
from shared.observability.metrics import MetricsSink
from shared.tasks.store import TaskStore

log = logging.getLogger(__name__)


class Reconciler:
    """Handles ReconcileTick: counter drift first, then stuck tasks."""

    def __init__(self, store: TaskStore, metrics: MetricsSink, settings: ReconcilerSettings,
                 repairs: StuckTaskRepairs | None = None):
        self._store = store
        self._metrics = metrics
        self._settings = settings
        self._repairs = repairs

    async def handle(self, event: BaseModel) -> None:
        if not isinstance(event, ReconcileTick):
            raise PoisonMessage(f"reconciler does not handle {type(event).__name__}")
        await self.tick()

    async def tick(self) -> dict[str, int]:
        summary: dict[str, int] = {}
        if self._repairs is not None:
            summary.update(await self._repairs.run())
        corrections = await correct_drift(self._store, grace_seconds=self._settings.drift_grace_seconds)
        for c in corrections:
            self._metrics.count("DriftCorrections", 1, user_id=c.user_id, delta=c.actual - c.observed)
        summary["drift_corrections"] = len(corrections)
        log.info("reconcile tick done", extra=summary)
        return summary

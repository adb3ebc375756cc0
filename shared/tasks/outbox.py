"""The one path that moves a task and tells the platform: commit with pending events, publish, mark sent."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Collection, Mapping, Sequence, cast

from shared.clock import parse_time
from shared.events.bus import EventPublisher, detail_of
from shared.events.models import EventDetail
from shared.observability.metrics import MetricsSink, NullMetrics
from shared.observability.task_metrics import record_started, record_terminal
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus
from shared.tasks.store import TaskTransitions

log = logging.getLogger(__name__)

# A redelivery comes after the queue's backoff (a second or more); entries younger than this belong to
# a publisher still at work, and publishing them again would only double the traffic.
RECOVERY_SECONDS = 1.0


class Outbox:
    """Transitions whose announced events are written with them and published after the commit."""

    def __init__(self, store: TaskTransitions, bus: EventPublisher, metrics: MetricsSink | None = None):
        self._store = store
        self._bus = bus
        self._metrics = metrics or NullMetrics()

    async def transition(
        self,
        task_id: str,
        target: TaskStatus,
        *,
        expected: Collection[TaskStatus] | None = None,
        changes: Mapping[str, Any] | None = None,
        max_active: int | None = None,
        event_metadata: Mapping[str, Any] | None = None,
        announce: Sequence[EventDetail] = (),
    ) -> Task:
        """Commit the transition with everything it announces pending, record its metric, then publish."""
        new = await self.commit(task_id, target, expected=expected, changes=changes, max_active=max_active,
                                event_metadata=event_metadata, announce=announce)
        await self.flush(new)
        return new

    async def commit(
        self,
        task_id: str,
        target: TaskStatus,
        *,
        expected: Collection[TaskStatus] | None = None,
        changes: Mapping[str, Any] | None = None,
        max_active: int | None = None,
        event_metadata: Mapping[str, Any] | None = None,
        announce: Sequence[EventDetail] = (),
    ) -> Task:
        """The transition and its metric, its events left pending for `flush` (or the reconciler's relay)."""
        new = await self._store.transition(task_id, target, expected=expected, changes=changes,
                                           max_active=max_active, event_metadata=event_metadata, announce=announce)
        if target.is_terminal:
            record_terminal(self._metrics, new)
        elif target == TaskStatus.RUNNING and "started_at" in (changes or {}):  # not a resume after approval
            record_started(self._metrics, new)
        return new

    async def flush_quietly(self, task: Task) -> bool:
        """Flush, and on failure log and leave the events to the reconciler's relay."""
        try:
            await self.flush(task)
        except Exception as exc:  # whatever failed, the events stay pending and are relayed
            log.warning("announced events not published yet; the reconciler relays them",
                        extra={"task_id": task.task_id, "error": str(exc)})
            return False
        return True

    async def flush(self, task: Task, *, older_than_seconds: float = 0.0) -> None:
        """Publish the task's pending events in order, then mark them sent (a repeat is harmless).

        With an age, only entries at least that old: what an attempt that died left behind, not what
        a live publisher is about to mark sent.
        """
        cutoff = datetime.now(timezone.utc) - timedelta(seconds=older_than_seconds)
        pending = {i: e for i, e in (task.outbox or {}).items()
                   if not older_than_seconds or parse_time(e.created_at) <= cutoff}
        if not pending:
            return
        ids = sorted(pending)
        # The outbox only ever holds the platform's own events.
        await self._bus.publish(*(cast(EventDetail, detail_of(pending[i].source, pending[i].detail_type,
                                                              pending[i].detail))
                                  for i in ids))
        await self._store.mark_sent(task.task_id, ids)

    async def recover(self, task: Task) -> None:
        """On a redelivered message: publish what an earlier attempt committed but never published."""
        await self.flush(task, older_than_seconds=RECOVERY_SECONDS)

    async def flush_stale(self, *, older_than_seconds: float, now: datetime | None = None) -> int:
        """Re-publish what transitions left pending longer than a short age (their publisher died)."""
        cutoff = (now or datetime.now(timezone.utc)) - timedelta(seconds=older_than_seconds)
        flushed = 0
        for task in await self._store.pending_outbox(updated_before=cutoff.isoformat().replace("+00:00", "Z")):
            flushed += await self.flush_quietly(task)
        return flushed

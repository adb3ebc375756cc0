"""Repairs of stuck tasks: each one a conditional write, an event, and a metric."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from services.reconciler.drift import ActiveTasks, read_active
from services.reconciler.settings import ReconcilerSettings
from shared.clock import parse_time, stamp
from shared.compute.protocol import ComputeStrategy, SessionState
from shared.events.bus import EventPublisher
from shared.events.models import ComputeSessionStopped, SlotReleased, TaskSubmitted
from shared.observability.metric_names import STUCK_TASKS_REPAIRED
from shared.observability.metrics import MetricsSink
from shared.steering.approvals import ApprovalStore
from shared.steering.errors import DecisionRefused
from shared.steering.resume import resume_task
from shared.tasks.errors import TransitionConflict
from shared.tasks.models import Task
from shared.tasks.outbox import Outbox
from shared.tasks.states import TaskStatus as S
from shared.tasks.store import TaskStore

log = logging.getLogger(__name__)


def _age(timestamp: str | None, now: datetime) -> float | None:
    return (now - parse_time(timestamp)).total_seconds() if timestamp else None


class StuckTaskRepairs:
    """The per-status checks of one reconcile tick."""

    def __init__(self, store: TaskStore, compute: ComputeStrategy, bus: EventPublisher, metrics: MetricsSink,
                 settings: ReconcilerSettings, approvals: ApprovalStore | None = None):
        self._approvals = approvals
        self._store = store
        self._compute = compute
        self._bus = bus
        self._outbox = Outbox(store, bus, metrics)
        self._metrics = metrics
        self._s = settings

    async def run(self, now: datetime | None = None, active: ActiveTasks | None = None) -> dict[str, int]:
        """Check every active task (from `active`, the tick's snapshot, or read now); every repair is conditional."""
        now = now or datetime.now(timezone.utc)
        active = active if active is not None else await read_active(self._store)
        counts: dict[str, int] = {}
        relayed = await self._outbox.flush_stale(older_than_seconds=self._s.outbox_stale_seconds, now=now)
        if relayed:  # a publisher died between a commit and its publish
            counts["outbox_relayed"] = relayed
            self._metrics.count(STUCK_TASKS_REPAIRED, relayed, repair="outbox_relayed")
        # Ticks overlap (several handler calls share this object): per-tick state lives in this call only.
        woken: set[str] = set()  # users whose queue got a SlotReleased this tick
        checks = [(S.RUNNING, self._running), (S.AWAITING_APPROVAL, self._awaiting), (S.HYDRATING, self._hydrating),
                  (S.SUBMITTED, self._submitted), (S.QUEUED, lambda task, now: self._queued(task, now, woken)),
                  (S.FINALIZING, self._finalizing)]
        for status, check in checks:
            for task in active.get(status, []):
                try:
                    repair = await check(task, now)
                except TransitionConflict:
                    repair = None  # the task moved on by itself meanwhile: nothing to repair
                if repair:
                    counts[repair] = counts.get(repair, 0) + 1
                    self._metrics.count(STUCK_TASKS_REPAIRED, 1, repair=repair, task_id=task.task_id)
                    log.warning("repaired task", extra={"task_id": task.task_id, "repair": repair})
        return counts

    async def _end(self, task: Task, status: S, code: str, message: str) -> None:
        """End a stuck task; the transition announces its notice and the freed slot."""
        await self._outbox.transition(task.task_id, status, expected={task.status},
                                      changes={"error_code": code, "error_message": message},
                                      event_metadata={"error_code": code, "by": "reconciler"})

    async def _running(self, task: Task, now: datetime) -> str | None:
        s = self._s
        started = _age(task.started_at or task.updated_at, now) or 0
        beat = _age(task.agent_heartbeat_at, now)
        stale = beat > s.heartbeat_stale_seconds if beat is not None else started > s.heartbeat_grace_seconds
        overdue = started > s.max_session_seconds
        if not (stale or overdue):
            return None
        state = await self._compute.describe(task.compute_handle) if task.compute_handle else SessionState.UNKNOWN
        if task.compute_handle and (overdue or state in (SessionState.RUNNING, SessionState.PENDING)):
            # Over its time, or alive but silent: stop it; what the task becomes is decided below.
            reason = "maximum session duration reached" if overdue else "heartbeat lost"
            await self._compute.stop(task.compute_handle, reason=reason)
        if task.agent_status:
            # It reported a result the finalizer has not processed: a finished run is the finalizer's
            # to judge from that result, never a timeout or a lost heartbeat.
            return await self._hand_to_finalizer(task)
        if overdue:
            await self._end(task, S.TIMED_OUT, "MAX_DURATION_EXCEEDED",
                            f"the task ran longer than {s.max_session_seconds:.0f}s and was stopped")
            return "max_duration"
        await self._end(task, S.FAILED, "HEARTBEAT_LOST",
                        f"no heartbeat from the agent for {beat if beat is not None else started:.0f}s "
                        f"(session {state.value.lower()})")
        return "heartbeat_lost"

    async def _awaiting(self, task: Task, now: datetime) -> str | None:
        """A task waiting for a decision: never failed for its heartbeat; past max duration it times out; its
        expired requests are denied."""
        s = self._s
        if (_age(task.started_at or task.updated_at, now) or 0) > s.max_session_seconds:
            if task.compute_handle:
                await self._compute.stop(task.compute_handle, reason="maximum session duration reached")
            await self._end(task, S.TIMED_OUT, "MAX_DURATION_EXCEEDED",
                            f"the task ran longer than {s.max_session_seconds:.0f}s and was stopped")
            return "max_duration"
        if self._approvals is None:
            return None
        # Only requests the task waits for: an open egress request never holds the task, nor resumes it.
        open_requests = [a for a in await self._approvals.pending_for_task(task.task_id) if a.holds_task]
        for approval in open_requests:
            if not approval.expired(stamp(now)):  # the tick's clock, like every other check here
                continue
            try:
                decided = await self._approvals.decide(approval, "expired", by="reconciler")
            except DecisionRefused:
                continue  # decided (or the task moved) meanwhile
            await resume_task(self._outbox, decided)
            return "approval_expired"
        if not open_requests and (_age(task.updated_at, now) or 0) > s.decided_resume_seconds:
            # Decided, but whoever decided did not get to hand the task back.
            await self._outbox.transition(task.task_id, S.RUNNING, expected={S.AWAITING_APPROVAL},
                                          event_metadata={"by": "reconciler", "reason": "approval already decided"})
            return "approval_resumed"
        return None

    async def _hand_to_finalizer(self, task: Task) -> str:
        await self._bus.publish(ComputeSessionStopped(task_id=task.task_id, user_id=task.user_id,
                                                      compute_handle=task.compute_handle or "unknown"))
        return "lost_report"

    async def _hydrating(self, task: Task, now: datetime) -> str | None:
        if (_age(task.updated_at, now) or 0) <= self._s.hydration_timeout_seconds:
            return None
        await self._end(task, S.FAILED, "HYDRATION_TIMEOUT",
                        f"hydration did not finish within {self._s.hydration_timeout_seconds:.0f}s")
        return "hydration_timeout"

    async def _redrive_due(self, task: Task, now: datetime, stale_seconds: float) -> bool:
        """Stale, and not re-sent within the same period: a busy consumer is not flooded with copies."""
        if (_age(task.updated_at, now) or 0) <= stale_seconds:
            return False
        if task.redriven_at and (_age(task.redriven_at, now) or 0) <= stale_seconds:
            return False
        await self._store.update(task.task_id, {"redriven_at": now.isoformat()}, expected_status=task.status)
        return True

    async def _submitted(self, task: Task, now: datetime) -> str | None:
        if not await self._redrive_due(task, now, self._s.submitted_stale_seconds):
            return None
        await self._bus.publish(TaskSubmitted(task_id=task.task_id, user_id=task.user_id))
        return "resubmitted"

    async def _queued(self, task: Task, now: datetime, woken: set[str]) -> str | None:
        if (_age(task.created_at, now) or 0) > self._s.queued_max_seconds:
            await self._end(task, S.FAILED, "QUEUE_TIMEOUT",
                            f"the task waited more than {self._s.queued_max_seconds / 3600:.0f}h for a slot")
            return "queue_timeout"
        if task.user_id in woken:
            return None  # one SlotReleased admits the user's oldest tasks, as many as fit
        counter = await self._store.get_concurrency(task.user_id)
        cap = counter.max_concurrency or self._s.default_max_concurrency
        if counter.active_count < cap:
            woken.add(task.user_id)
            await self._bus.publish(SlotReleased(user_id=task.user_id))
            return "queued_with_free_slot"
        return None

    async def _finalizing(self, task: Task, now: datetime) -> str | None:
        if not await self._redrive_due(task, now, self._s.finalizing_stale_seconds):
            return None
        await self._bus.publish(ComputeSessionStopped(task_id=task.task_id, user_id=task.user_id,
                                                      compute_handle=task.compute_handle or "unknown"))
        return "refinalize"


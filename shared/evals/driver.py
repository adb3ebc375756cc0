"""The evaluation driver: starts a run's attempts within its limits and counts each finished one exactly once.

Every step is a write conditional on the run's version, and an attempt's task is created under an idempotency
key derived from (run, case, attempt): the gateway (at creation), the reconciler (on each attempt's end and on
every tick) and any redelivery may all drive the same run at once without starting or counting anything twice.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

from shared.clock import new_id, parse_time, stamp
from shared.evals.cases import attempt_idempotency_key
from shared.evals.errors import AttemptAlreadyCounted, EvalCapReached, EvalChanged
from shared.evals.models import EvalRun
from shared.evals.outcome import attempt_record
from shared.evals.store import EvalStore, next_version
from shared.events.bus import EventPublisher
from shared.events.models import TaskSubmitted
from shared.tasks.errors import IdempotencyConflict, TransitionConflict
from shared.tasks.models import Task
from shared.tasks.outbox import Outbox
from shared.tasks.states import CANCELLABLE
from shared.tasks.states import TaskStatus as S
from shared.tasks.store import TaskStore

log = logging.getLogger(__name__)
_RETRIES = 20
SLOT = "eval_slot"  # the attempt's slot, in its task's channel_metadata


def _now() -> datetime:
    return datetime.now(timezone.utc)


def finished(run: EvalRun) -> bool:
    """Nothing running and nothing more to start."""
    return not run.in_flight and (run.next_slot >= run.total_slots or run.budget_spent)


@dataclass
class EvalDriver:
    evals: EvalStore
    tasks: TaskStore
    bus: EventPublisher
    # Evaluation attempts running at once on the whole platform (BGAGENT_EVAL_MAX_RUNNING).
    max_running: int = 16
    clock: Callable[[], datetime] = _now
    # How long one call may wait for a run's pacing (rate_per_s) before leaving the rest to the next call.
    max_pacing_wait_s: float = 5.0
    _outbox: Outbox = field(init=False)

    def __post_init__(self) -> None:
        self._outbox = Outbox(self.tasks, self.bus)

    async def advance(self, eval_id: str, run: EvalRun | None = None) -> EvalRun | None:
        """Start every attempt the run may start now; mark it completed once everything is counted. `run`: the
        run as this driver last wrote it, saving a read (a stale one only costs a failed condition)."""
        waited, known = 0.0, run
        for _ in range(_RETRIES * 100):
            run, known = known or await self.evals.get(eval_id), None
            if run is None or run.status != "running":
                return run
            if finished(run):
                try:
                    return await self._complete(run)
                except EvalChanged:
                    continue
            if len(run.in_flight) >= run.settings.concurrency or run.next_slot >= run.total_slots or run.budget_spent:
                return run
            wait = self._pacing(run)
            if wait > 0:
                if waited + wait > self.max_pacing_wait_s:
                    return run  # the next end or tick starts it
                await asyncio.sleep(wait)
                waited += wait
                continue
            # The attempt's task id is chosen with the claim: whoever creates the task later uses it.
            slot = run.next_slot
            changes: dict = {"next_slot": slot + 1, "in_flight": {**run.in_flight, str(slot): new_id()}}
            if run.settings.rate_per_s:
                changes["next_start_at"] = stamp(self.clock() + timedelta(seconds=1 / run.settings.rate_per_s))
            try:
                run = await self.evals.claim(run, next_version(run, **changes), cap=self.max_running)
            except EvalChanged:
                continue  # another driver claimed it: look again
            except EvalCapReached:
                return run  # the platform's eval places are taken: the next count or tick starts it
            known = await self._start(run, slot)
        return await self.evals.get(eval_id)

    def _pacing(self, run: EvalRun) -> float:
        if not run.settings.rate_per_s or not run.next_start_at:
            return 0.0
        return max(0.0, (parse_time(run.next_start_at) - self.clock()).total_seconds())

    async def _complete(self, run: EvalRun) -> EvalRun:
        stopped = "max_cost_usd" if run.next_slot < run.total_slots else None
        done = await self.evals.replace(run, next_version(run, status="completed", completed_at=stamp(self.clock()),
                                                          stopped_reason=stopped))
        log.info("evaluation run completed", extra={"eval_id": run.eval_id, "counted": run.counted})
        return done

    async def _start(self, run: EvalRun, slot: int) -> EvalRun | None:
        """Create the slot's task under the id its claim chose (once, whoever asks); the run as this driver knows it,
        None when the task has ended or been cancelled meanwhile (the count or cancel read it again)."""
        index, attempt = run.place(slot)
        found = await self.evals.cases(run.eval_id, start=index, limit=1)
        if not found or found[0].index != index:
            log.error("evaluation case missing", extra={"eval_id": run.eval_id, "case_index": index})
            return None
        case, s = found[0], run.settings
        task = Task.new(
            task_id=run.in_flight[str(slot)], user_id=run.user_id, repo=case.repo, task_description=case.task,
            channel_source="eval",
            channel_metadata={"eval_id": run.eval_id, "eval_name": run.name, SLOT: slot},
            idempotency_key=attempt_idempotency_key(run.eval_id, case.case_id, attempt),
            eval_id=run.eval_id, case_id=case.case_id, attempt=attempt, model_id=s.model_id,
            model_endpoint=s.model_endpoint, max_turns=s.max_turns, max_budget_usd=s.max_budget_usd,
            save_trajectory=True, engine=s.engine)
        try:
            created = await self.tasks.create(task, announce=[TaskSubmitted(task_id=task.task_id,
                                                                            user_id=task.user_id)])
            await self._outbox.flush_quietly(created)
        except IdempotencyConflict as exc:
            existing = await self.tasks.get(exc.task_id)
            if existing is None:
                return None  # not readable yet: the next repair finds it under the same key
            created = existing
        latest = await self.evals.get(run.eval_id)  # a cancel that came after the claim did not see this task
        if latest is not None and latest.status == "cancelled":
            await self.cancel_task(created)
            return None
        if created.status.is_terminal:
            await self.count(created)
            return None
        return latest

    async def count(self, task: Task) -> bool:
        """Count a terminal attempt (False when it was counted before), then start what that frees."""
        meta = task.channel_metadata or {}
        if task.channel_source != "eval" or not task.eval_id or not task.status.is_terminal or SLOT not in meta:
            return False
        slot, counted = int(meta[SLOT]), False
        for _ in range(_RETRIES):
            run = await self.evals.get(task.eval_id)
            if run is None:
                return False
            record = attempt_record(task, run.place(slot)[0])
            in_flight = {k: v for k, v in run.in_flight.items() if k != str(slot)}
            new = next_version(run, in_flight=in_flight, counted=run.counted + 1,
                               cost_usd=round(run.cost_usd + record.cost_usd, 6))
            try:
                latest: EvalRun | None = await self.evals.count(run, new, record)
                counted = True
                log.info("evaluation attempt counted", extra={"eval_id": run.eval_id, "task_id": task.task_id,
                                                              "classification": record.classification})
                break
            except AttemptAlreadyCounted:
                latest = None
                break
            except EvalChanged:
                continue
        await self.advance(task.eval_id, latest if counted else None)
        return counted

    async def cancel(self, run: EvalRun) -> EvalRun:
        """Stop the run: nothing more starts, running attempts are cancelled (and counted as CANCELLED)."""
        for _ in range(_RETRIES):
            if run.status != "running":
                break
            try:
                run = await self.evals.replace(run, next_version(run, status="cancelled",
                                                                 completed_at=stamp(self.clock())))
            except EvalChanged:
                found = await self.evals.get(run.eval_id)
                if found is None:
                    break
                run = found
        for task_id in [t for t in run.in_flight.values() if t]:
            task = await self.tasks.get(task_id)
            if task is not None:
                await self.cancel_task(task)
        return run

    async def cancel_task(self, task: Task) -> None:
        for _ in range(5):
            if task.status not in CANCELLABLE:
                if task.status.is_terminal:
                    await self.count(task)
                return
            try:
                task = await self._outbox.transition(task.task_id, S.CANCELLED, expected={task.status},
                                                     event_metadata={"reason": "eval cancelled"})
            except TransitionConflict as exc:
                task = exc.current
                continue
            await self.count(task)
            return

    async def repair(self, run: EvalRun) -> None:
        """What a crash or a lost event left: slots claimed without a task, ends not counted; then advance."""
        for slot, task_id in list(run.in_flight.items()):
            task = await self.tasks.get(task_id)
            if task is None:
                await self._start(run, int(slot))  # claimed, not created: create it (a repeat finds it)
            elif task.status.is_terminal:
                await self.count(task)
        await self.advance(run.eval_id)

    async def repair_all(self) -> int:
        """Repair every running run (the reconciler's tick); returns how many were looked at."""
        runs = await self.evals.running()
        for run in runs:
            await self.repair(run)
        return len(runs)

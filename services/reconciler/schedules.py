"""Running due schedules on each reconcile tick: one task per due time, claimed with conditional writes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from pydantic import ValidationError

from shared.clock import parse_time, stamp
from shared.events.bus import EventPublisher
from shared.events.models import TaskSubmitted
from shared.observability.redaction import redact
from shared.pull_outcomes.access import may_work_on_pull, not_yours
from shared.pull_outcomes.store import PullOutcomeStore
from shared.repos.store import RepoStore
from shared.schedules.errors import InvalidSchedule, ScheduleChanged, ScheduleNotFound
from shared.schedules.models import Schedule
from shared.schedules.store import ScheduleStore
from shared.schedules.timing import latest_due, next_due
from shared.tasks.errors import IdempotencyConflict
from shared.tasks.models import Task
from shared.tasks.outbox import Outbox
from shared.tasks.store import TaskStore

log = logging.getLogger(__name__)
_EPSILON = timedelta(seconds=1)



def run_key(schedule_id: str, due: str) -> str:
    """The idempotency key of a schedule's run at one due time: a second claim finds the same task."""
    return f"schedule:{schedule_id}:{due}"


@dataclass
class ScheduleRunner:
    """Creates the tasks of due schedules; safe to run from several processes and on redelivered ticks."""

    schedules: ScheduleStore
    tasks: TaskStore
    repos: RepoStore
    bus: EventPublisher
    outcomes: PullOutcomeStore

    async def run(self, now: datetime | None = None) -> dict[str, int]:
        now = now or datetime.now(timezone.utc)
        summary = {"schedule_runs": 0, "schedule_skips": 0, "schedule_pauses": 0}
        for schedule in await self.schedules.due(stamp(now)):
            outcome = await self._run_one(schedule, now)
            if outcome:
                summary[outcome] += 1
        return summary

    async def _run_one(self, s: Schedule, now: datetime) -> str | None:
        assert s.next_run_at is not None  # only active schedules with a next run are due
        try:
            due = latest_due(cron=s.cron, rate=s.rate, tz=s.timezone,
                             since=parse_time(s.next_run_at).replace(microsecond=0) - _EPSILON, now=now)
            following = next_due(cron=s.cron, rate=s.rate, tz=s.timezone, after=now)
        except InvalidSchedule as exc:
            return await self._pause(s, f"its {exc.field} no longer evaluates: {exc.message}")
        if due is None:  # the stored next run is no due time of the expression (edited meanwhile): recompute it
            await self._advance(s, {"next_run_at": stamp(following)})
            return None
        repo = await self.repos.get(s.template.repo)
        if repo is None or not repo.active:
            return await self._pause(s, f"repository {s.template.repo} is no longer onboarded")
        pr = s.template.pr_number
        if pr is not None and not await may_work_on_pull(self.outcomes, repo, pr, s.user_id):
            return await self._pause(s, not_yours(repo.repo, pr))
        if s.overlap == "skip" and await self._previous_still_running(s):
            changes = {"next_run_at": stamp(following), "skipped_runs": s.skipped_runs + 1,
                       "last_skipped_at": stamp(due)}
            return "schedule_skips" if await self._advance(s, changes) else None
        try:
            task = await self._submit(s, stamp(due))
        except (ValidationError, ValueError) as exc:
            return await self._pause(s, f"its task no longer validates: {redact(str(exc))[:300]}")
        changes = {"next_run_at": stamp(following), "last_run_at": stamp(due), "last_task_id": task.task_id,
                   "runs": s.runs + 1}
        return "schedule_runs" if await self._advance(s, changes) else None

    async def _previous_still_running(self, s: Schedule) -> bool:
        if not s.last_task_id:
            return False
        previous = await self.tasks.get(s.last_task_id)
        return previous is not None and not previous.status.is_terminal

    async def _submit(self, s: Schedule, due: str) -> Task:
        """The run's task, created once: a repeated claim of the same due time finds the first one."""
        task = Task.new(user_id=s.user_id, channel_source="schedule", schedule_id=s.schedule_id,
                        channel_metadata={"schedule_id": s.schedule_id, "schedule_name": s.name, "due_at": due},
                        idempotency_key=run_key(s.schedule_id, due), **s.template.task_fields())
        try:
            submitted = TaskSubmitted(task_id=task.task_id, user_id=task.user_id)
            created = await self.tasks.create(task, announce=[submitted])
        except IdempotencyConflict as exc:
            existing = await self.tasks.get(exc.task_id)
            if existing is None:
                raise
            return existing  # if its TaskSubmitted was lost, the reconciler re-sends it for stale SUBMITTED tasks
        # TaskSubmitted was committed with the task: if publishing fails, the reconciler's relay re-sends it.
        await Outbox(self.tasks, self.bus).flush(created)
        log.info("schedule ran", extra={"schedule_id": s.schedule_id, "task_id": created.task_id, "due_at": due})
        return created

    async def _advance(self, s: Schedule, changes: dict) -> bool:
        """Move the schedule past this due time, only if no other runner or edit got there first."""
        try:
            await self.schedules.update(s.schedule_id, changes, expect={"next_run_at": s.next_run_at})
        except (ScheduleChanged, ScheduleNotFound):
            return False
        return True

    async def _pause(self, s: Schedule, reason: str) -> str | None:
        log.warning("schedule paused", extra={"schedule_id": s.schedule_id, "reason": reason})
        ok = await self._advance(s, {"paused": True, "paused_reason": reason})
        return "schedule_pauses" if ok else None


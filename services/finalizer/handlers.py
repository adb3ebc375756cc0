"""Finalizing tasks whose agent reported, or whose compute session stopped."""

from __future__ import annotations

import logging
from typing import Protocol

from services.finalizer.decision import Evidence, decide
from shared.events.bus import EventPublisher
from shared.events.models import AgentFinished, ComputeSessionStopped, EcsTaskStateChange
from shared.githost.errors import GitHostError
from shared.githost.protocol import GitHost
from shared.githost.status_comment import try_post_status
from shared.memory.notes import episode_text
from shared.memory.store import MemoryEntry, MemoryStore
from shared.messaging.errors import PoisonMessage, RetryLater
from shared.messaging.routing import routing_table
from shared.observability.metrics import MetricsSink, NullMetrics
from shared.pull_outcomes.models import PullOpener
from shared.pull_outcomes.store import PullOutcomeStore
from shared.tasks.errors import TaskNotFound
from shared.tasks.models import Task
from shared.tasks.outbox import Outbox
from shared.tasks.states import PENDING
from shared.tasks.states import TaskStatus as S
from shared.tasks.store import TaskStore

log = logging.getLogger(__name__)


class ClaimedTasks(Protocol):
    """Warm capacity's claims (shared.compute.sessions.SessionClaims), as the finalizer reads them."""

    async def task_of(self, task_arn: str) -> str | None: ...


class Finalizer:
    """Handles AgentFinished, Compute Session Stopped and ECS Task State Change (STOPPED)."""

    def __init__(self, store: TaskStore, git: GitHost, bus: EventPublisher, memory: MemoryStore | None = None,
                 metrics: MetricsSink | None = None, claims: ClaimedTasks | None = None,
                 outcomes: PullOutcomeStore | None = None):
        self._claims = claims
        self._outcomes = outcomes
        self._memory = memory
        self._metrics = metrics or NullMetrics()
        self._store = store
        self._git = git
        self._outbox = Outbox(store, bus, self._metrics)

    async def on_agent_finished(self, event: AgentFinished) -> None:
        await self.finalize(event.task_id, trigger="agent finished")

    async def on_session_stopped(self, event: ComputeSessionStopped) -> None:
        note = f"the agent process exited with code {event.exit_code} before reporting a result"
        await self.finalize(event.task_id, trigger="session stopped", stopped_note=note)

    async def on_ecs_stopped(self, event: EcsTaskStateChange) -> None:
        task_id = await self._task_of(event)
        if task_id is None:
            log.info("a warm agent stopped without having claimed a task", extra={"task_arn": event.task_arn})
            return
        note = f"the agent container stopped ({event.stopped_reason or event.stop_code or 'no reason'})"
        await self.finalize(task_id, trigger="ecs stopped", stopped_note=note)

    async def _task_of(self, event: EcsTaskStateChange) -> str | None:
        """RunTask sessions carry their task id in startedBy; a warm agent's task is the one it claimed."""
        if (event.group or "").startswith("service:"):
            if self._claims is None:
                raise PoisonMessage("a warm agent's ECS event, but this finalizer reads no claims")
            return await self._claims.task_of(event.task_arn)
        if not event.started_by:
            raise PoisonMessage("ECS task without startedBy: not one of ours")
        return event.started_by

    async def finalize(self, task_id: str, *, trigger: str, stopped_note: str | None = None) -> None:
        task = await self._store.get(task_id)
        if task is None:
            raise TaskNotFound(task_id)
        await self._outbox.recover(task)  # a terminal notice an earlier attempt committed but did not publish
        if task.status in PENDING:
            # The session ended before the dispatcher recorded it as running: look again shortly.
            raise RetryLater(f"task is still {task.status.value}", delay=5)
        if task.status == S.RUNNING:
            task = await self._outbox.transition(task_id, S.FINALIZING, expected={S.RUNNING},
                                                 event_metadata={"trigger": trigger})
        if task.status != S.FINALIZING:
            log.info("task already final", extra={"status": task.status.value})
            return
        await self._conclude(task, stopped_note)

    async def _remember(self, task: Task) -> None:
        """A fallback episode, so the next task on the repo knows how this one went; the agent's wins."""
        if self._memory is None or task.channel_source == "eval":  # evaluation attempts stay independent
            return
        text = episode_text(task.status.value, commits=task.commit_count, files_changed=None,
                            tests_passed={"passed": True, "failed": False}.get(task.tests or ""),
                            error_code=task.error_code)
        await self._memory.put(MemoryEntry(repo=task.repo, kind="episode", entry_id=task.task_id, text=text,
                                           task_id=task.task_id, outcome=task.status.value, source="finalizer"),
                               only_if_new=True)

    async def _record_opener(self, task: Task, evidence: Evidence) -> None:
        """A new task's PR belongs to its user: later PR tasks on it are checked against this row. Iterations
        open nothing (the PR keeps its opener), and a row already there stands (a retried finalize)."""
        if self._outcomes is None or task.task_type != "new_task" or not evidence.pr_number:
            return
        await self._outcomes.record_opener(PullOpener(repo=task.repo, pr_number=evidence.pr_number,
                                                      user_id=task.user_id, task_id=task.task_id))

    async def _evidence(self, task: Task) -> Evidence:
        if task.task_type == "pr_review":
            return Evidence(task.pr_url, task.pr_number, 0)  # a review changes nothing on the branch
        if task.channel_source == "eval":
            return Evidence(None, None, task.commit_count)  # an attempt pushes nothing: its diff is an artifact
        try:
            pull = await self._git.find_pull(task.repo, task.branch_name)
            repo = await self._git.get_repository(task.repo)
            ahead = await self._git.commits_ahead(task.repo, base=repo.default_branch, head=task.branch_name)
        except GitHostError as exc:
            log.warning("git host unavailable; deciding from the agent's report", extra={"error": str(exc)})
            return Evidence(task.pr_url, task.pr_number, task.commit_count)
        return Evidence(pull.url if pull else None, pull.number if pull else None, ahead)

    async def _conclude(self, task: Task, stopped_note: str | None) -> None:
        evidence = await self._evidence(task)
        outcome = decide(task, evidence, stopped_note=stopped_note)
        changes = {"pr_url": evidence.pr_url or task.pr_url, "pr_number": evidence.pr_number or task.pr_number,
                   "commit_count": evidence.commits_ahead if evidence.commits_ahead is not None else task.commit_count}
        if outcome.error_code:
            changes.update(error_code=outcome.error_code, error_message=outcome.error_message)
        # Memory first: once the task is final a retry stops early, so nothing may follow the transition
        # but its own announcements (TaskCompleted/TaskFailed and SlotReleased, in its outbox).
        await self._remember(task.model_copy(update={**changes, "status": outcome.status}))
        await self._record_opener(task, evidence)
        final = await self._outbox.transition(
            task.task_id, outcome.status, expected={S.FINALIZING}, changes=changes,
            event_metadata={"error_code": outcome.error_code, "note": outcome.note or None})
        await try_post_status(self._git, final)  # best effort: the task's one GitHub comment says how it ended


HANDLERS = routing_table("finalizer", {
    AgentFinished: Finalizer.on_agent_finished,
    ComputeSessionStopped: Finalizer.on_session_stopped,
    EcsTaskStateChange: Finalizer.on_ecs_stopped,
})

"""One run of the agent on one task: wait for RUNNING, work, write the result, announce it."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Coroutine, Literal, Protocol, TypeVar

from agent.approvals import ApprovalWaiter
from agent.attachments import AttachmentSource
from agent.delivery import Deliverer, Delivery
from agent.egress_approvals import EgressAsker
from agent.engine_run import EngineRun
from agent.errors import (
    AgentError,
    Cancelled,
    ContextUnavailable,
    ModelNotPriced,
    NotStarted,
    SetupFailed,
)
from agent.evals.attempt import EvalAttempt
from agent.evals.diffs import DiffStore
from agent.gates import ApprovalGates, DeliveryGates, OpenGates
from agent.guard import TaskGuard, TaskRows
from agent.iteration import IterationDeliverer
from agent.memory import RunFacts, remember, remember_review
from agent.model_client import ModelClient
from agent.model_loop import LoopResult
from agent.progress import EventTrail, Progress
from agent.pull_request import DeliveryHost
from agent.relay.upstream import Upstream
from agent.repo_cache import repo_cache_from
from agent.result import RunOutcome
from agent.review import ReviewDeliverer
from agent.sandbox.factory import SandboxFactory, TaskSandboxRequest, config_from
from agent.sandbox.protocol import Sandbox, SandboxPaths
from agent.sandbox.quota import WorkspaceQuota, open_quota
from agent.sandbox.reporting import EgressTrail
from agent.sandbox.watchdog import QuotaLimits
from agent.settings import AgentSettings
from agent.trajectory import TrajectoryStore, trajectory_document
from agent.work_import import ChangeLimits
from agent.workspace import Workspace
from shared.aws.errors import StoreUnavailable
from shared.clock import utcnow
from shared.evals.case_source import CaseSource
from shared.events.errors import PublishFailed
from shared.events.models import EventDetail
from shared.githost.status_comment import try_post_status
from shared.hydration.context import HydratedContext
from shared.llm.endpoints import EndpointRef
from shared.llm.errors import UnknownModel
from shared.llm.lookup import price_for
from shared.llm.prices import ModelPrice
from shared.memory.store import MemoryStore
from shared.observability.logging import log_context
from shared.observability.redaction import redact
from shared.steering.approvals import ApprovalStore
from shared.steering.nudges import NudgeStore
from shared.tasks.models import Task
from shared.tasks.outbox import Outbox
from shared.tasks.store import TaskTransitions

log = logging.getLogger(__name__)
T = TypeVar("T")
# How a run's work reaches the host: a new PR, new commits on an existing PR, or a review of one.
_DELIVERERS = {"pr_iteration": IterationDeliverer, "pr_review": ReviewDeliverer}


class AgentTaskStore(TaskRows, EventTrail, TaskTransitions, Protocol):
    """The task row and its trail."""


class ContextSource(Protocol):
    """Where the hydrated context is read from."""

    async def get(self, key: str) -> HydratedContext | None: ...


class Publisher(Protocol):
    """The platform's event bus."""

    async def publish(self, *details: EventDetail) -> None: ...


@dataclass
class AgentDeps:
    """The collaborators of a run, built by the composition root."""

    store: AgentTaskStore
    contexts: ContextSource
    publisher: Publisher
    host: DeliveryHost
    upstream: Upstream  # the model provider, with the credential: only the task's relay talks to it
    relay_client: Callable[[Path], ModelClient]  # the native loop's client of the relay at that socket
    # A registered model endpoint's upstream (its key read from the secrets store); None: endpoints unavailable.
    endpoint_upstream: Callable[[EndpointRef], Awaitable[Upstream]] | None = None
    memory: MemoryStore | None = None
    trajectories: TrajectoryStore | None = None
    attachments: AttachmentSource | None = None
    sandboxes: SandboxFactory | None = None  # None: the one the settings describe
    nudges: NudgeStore | None = None
    approvals: ApprovalStore | None = None
    cases: CaseSource | None = None  # evaluation attempts: the run's cases (base, reference patch, hidden tests)
    diffs: DiffStore | None = None  # evaluation attempts: where their diffs are kept


@dataclass
class RunReport:
    """How the process run ended; `exit_code` is what the process exits with."""

    exit_code: int
    outcome: Literal["success", "error", "cancelled", "skipped", "not_started"]
    error: str | None = None
    loop: LoopResult | None = None
    delivery: Delivery | None = None


class AgentRunner:
    """Steps 2-11 of the agent's contract, for the task named in the settings."""

    def __init__(self, settings: AgentSettings, deps: AgentDeps):
        if not settings.task_id:
            raise ValueError("a task id is required")
        self._settings = settings
        self._deps = deps
        self.guard = TaskGuard(deps.store, settings.task_id)
        self._workspace: Workspace | None = None
        self._quota: WorkspaceQuota | None = None
        self._sandboxes = deps.sandboxes or SandboxFactory(config_from(settings))

    async def run(self) -> RunReport:
        """Run the task to its end; never raises for a task-level failure."""
        s = self._settings
        try:
            task = await self.guard.wait_until_running(timeout=s.start_wait_seconds, poll=s.start_poll_seconds)
        except NotStarted as exc:
            log.error("%s", exc)
            return RunReport(2, "not_started", str(exc))
        if task is None:
            log.info("task ended before the agent started; nothing to do")
            return RunReport(0, "skipped")
        with log_context(task_id=task.task_id, user_id=task.user_id):
            try:
                await self.guard.write({"agent_heartbeat_at": utcnow(), "session_id": uuid.uuid4().hex,
                                        "sandbox": "off" if self._sandboxes.config.mode == "off" else "on"})
            except Cancelled as exc:
                return RunReport(0, "cancelled", str(exc))
            heartbeat = asyncio.create_task(self.guard.heartbeat(s.heartbeat_seconds))
            try:
                return await self._run_started(task)
            finally:
                heartbeat.cancel()
                await asyncio.gather(heartbeat, return_exceptions=True)
                ws = self._workspace
                if ws is not None and ws.sandbox is not None:
                    await ws.sandbox.close()
                if self._quota is not None:
                    # First: unmounting drops the whole clone at once (seconds for 100,000 files, off the loop).
                    await asyncio.to_thread(self._quota.release)
                if ws is not None:
                    ws.remove()

    async def _run_started(self, task: Task) -> RunReport:
        s = self._settings
        progress = Progress(self._deps.store, task.task_id, min_interval=s.event_min_interval_seconds,
                            max_events=s.max_events, stopped=self.guard.is_stopped)
        await progress.emit("agent.started", {"model_id": task.model_id, "engine": task.engine,
                                              "max_turns": task.max_turns,
                                              "max_budget_usd": task.max_budget_usd,
                                              "sandbox": self._sandboxes.config.mode})
        if task.channel_source == "github":
            await try_post_status(self._deps.host, task)
        try:
            outcome = await self._until_stopped(self._work(task, progress))
            await self.guard.write(outcome.changes())
        except Cancelled as exc:
            log.info("stopped: %s; writing nothing more", exc)
            return RunReport(0, "cancelled", str(exc))
        except StoreUnavailable as exc:
            # Still announce the end: the finalizer then decides without waiting for the heartbeat to lapse.
            log.error("could not write the result: %s", exc)
        if self._deps.memory is not None and not outcome.evaluation:  # attempts stay independent
            await remember(self._deps.memory, task, await self._facts(outcome), summary=outcome.summary)
        loop = outcome.loop
        await progress.emit("agent.finished", {"outcome": outcome.status, "error": outcome.error,
                                               "turns": loop.turns if loop else 0, "cost_usd": outcome.cost_usd})
        await self._publish(outcome, task)
        log.info("finished: %s", outcome.status, extra={"error": outcome.error})
        return RunReport(0 if outcome.status == "success" else 1, outcome.status, outcome.error, loop,
                         outcome.delivery)

    async def _facts(self, outcome: RunOutcome) -> RunFacts:
        delivery, ws = outcome.delivery, self._workspace
        test = delivery.test if delivery else None
        files = await ws.files_changed() if ws is not None and delivery and delivery.commit_count else None
        return RunFacts(outcome.status, delivery.commit_count if delivery else None, files,
                        test.passed if test else None, outcome.changes().get("error_code"))

    async def _until_stopped(self, work: Coroutine[Any, Any, T]) -> T:
        """Await `work`, abandoning it at once if the guard stops (cancel or SIGTERM)."""
        job = asyncio.ensure_future(work)
        stop = asyncio.ensure_future(self.guard.stopped.wait())
        try:
            await asyncio.wait({job, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            abandoned = not job.done()
            if abandoned:  # stopped, or we were cancelled ourselves: the work must not run on
                job.cancel()
                await asyncio.gather(job, return_exceptions=True)
        if abandoned:
            raise Cancelled(self.guard.stop_reason or "stopped")
        return job.result()

    async def _work(self, task: Task, progress: Progress) -> RunOutcome:
        outcome = RunOutcome()
        try:
            context = await self._load_context(task)
            outcome.evaluation = context.evaluation
            oracle = context.engine == "oracle"
            price = None if oracle else _price(context)  # first: an unpriced model costs no clone and no setup run
            workspace = await self._prepare(task, context, progress)
            attempt = self._attempt(task, context, workspace, progress)
            if price is None:  # the oracle: the case's reference patch, no model
                outcome.loop = await attempt.oracle(context)
            else:
                engine = EngineRun(self._settings, self._deps, self.guard.is_stopped, self._waiter(task, context))
                outcome.loop = await engine.run(task, context, workspace, progress, price)
            outcome.summary = outcome.loop.summary
            if context.save_trajectory and self._deps.trajectories is not None:
                outcome.trajectory_key = await self._deps.trajectories.put(
                    task.task_id, trajectory_document(context, outcome.loop))
            await progress.flush()
            if context.evaluation:
                await attempt.finish(task, context, outcome)
                return outcome
            deliverer = _DELIVERERS.get(context.task_type, Deliverer)
            outcome.delivery = await deliverer(
                workspace, self._deps.host, progress, token=self._settings.github_token,
                test_timeout=self._settings.test_timeout_seconds, gates=self._gates(task, context, workspace),
            ).deliver(task, context, outcome.loop)
            outcome.summary = outcome.delivery.summary or outcome.summary
            outcome.error = "; ".join(e for e in (outcome.loop.error, outcome.delivery.error) if e) or None
            outcome.error_code = outcome.delivery.error_code  # PUSH_REJECTED, NOT_APPROVED; else from the loop
            if self._deps.memory is not None and not outcome.error and outcome.delivery.commit_count \
                    and context.task_type == "pr_iteration":
                await remember_review(self._deps.memory, task, context.review_feedback)
        except Cancelled:
            raise
        except AgentError as exc:
            outcome.error, outcome.error_code = str(exc), getattr(exc, "code", None)
        except Exception as exc:  # a bug must still end as a readable result, not a silent crash
            log.exception("agent failed unexpectedly")
            outcome.error = f"internal error in the agent: {type(exc).__name__}: {exc}"
        return outcome

    def _attempt(self, task: Task, context: HydratedContext, ws: Workspace, progress: Progress) -> EvalAttempt:
        s = self._settings
        return EvalAttempt(ws, self._deps.cases, self._deps.diffs, progress,
                           lambda: self._open_sandbox(task, context, ws, progress),
                           git_timeout=s.git_timeout_seconds, setup_timeout=s.setup_timeout_seconds)

    async def _load_context(self, task: Task) -> HydratedContext:
        if not task.context_key:
            raise ContextUnavailable("the task has no hydrated context (context_key is empty)")
        try:
            context = await self._deps.contexts.get(task.context_key)
        except StoreUnavailable as exc:
            raise ContextUnavailable(f"could not read the hydrated context: {exc}") from exc
        if context is None or context.task_id != task.task_id:
            raise ContextUnavailable(f"the hydrated context {task.context_key} is missing or belongs to another task")
        return context

    async def _prepare(self, task: Task, context: HydratedContext, progress: Progress) -> Workspace:
        s = self._settings
        self._quota = quota = await self._open_quota(task, progress)
        self._workspace = workspace = Workspace(task.task_id, base_dir=s.workspace_dir, tool_path=s.tool_path,
                                                git_timeout=s.git_timeout_seconds,
                                                cache=None if context.evaluation else repo_cache_from(s),
                                                limits=ChangeLimits(s.max_change_mb << 20, s.max_change_files),
                                                root=quota.root)
        if context.evaluation:  # the case's base only: nothing newer (its fix, its tests) reaches the sandbox
            if not context.base_commit:
                raise ContextUnavailable("the evaluation attempt's context names no base commit")
            context.base_commit = await workspace.clone_at(context.clone_url, s.github_token,
                                                           commit=context.base_commit, branch=context.branch_name)
            continued = False
        else:
            continued = await workspace.clone(context.clone_url, s.github_token, branch=context.branch_name,
                                              default_branch=context.default_branch)
        log.info("cloned %s on %s branch %s; model %s, at most %d turns, budget %s", context.repo,
                 "existing" if continued else "new", context.branch_name, context.model_id, context.max_turns,
                 f"${context.max_budget_usd:.2f}" if context.max_budget_usd is not None else "none")
        workspace.sandbox = await self._open_sandbox(task, context, workspace, progress)
        if context.setup_command:
            await self._gates(task, context, workspace).script("setup", context.setup_command)
            result = await workspace.run_script(context.setup_command, timeout=s.setup_timeout_seconds)
            if not result.ok:
                how = result.stopped or ("timed out" if result.timed_out else f"exit {result.exit_code}")
                tail = redact("\n".join(result.output.rstrip().splitlines()[-20:]))
                raise SetupFailed(f"the setup command failed ({how}): {tail}")
        return workspace

    async def _open_sandbox(self, task: Task, context: HydratedContext, workspace: Workspace,
                            progress: Progress) -> Sandbox:
        """The task's sandbox on the workspace, within its quota (an evaluation's grading opens a second one)."""
        assert self._quota is not None  # opened first, with the workspace
        trail = EgressTrail(lambda kind, metadata: progress.emit(kind, metadata, lifecycle=False))
        asker = None if context.evaluation else self._egress_asker(task, context)  # nobody answers in a run
        return self._quota.guard(await self._sandboxes.open(TaskSandboxRequest(
            task.task_id, SandboxPaths(workspace.repo, workspace.home, workspace.tmp), workspace.tool_env(),
            allowlist=context.egress_allowlist, on_unlisted=asker,
            readonly_paths=[*context.sandbox_readonly_paths, *workspace.sandbox_readonly]), trail))

    async def _open_quota(self, task: Task, progress: Progress) -> WorkspaceQuota:
        """The workspace root held to its total size and file count, and an event saying how."""
        s = self._settings
        limits = QuotaLimits(s.workspace_max_mb << 20, s.workspace_max_files)
        quota = await asyncio.to_thread(open_quota, s.workspace_dir, task.task_id, limits, mode=s.workspace_quota,
                                        interval=s.workspace_watch_seconds)
        if quota.why_watchdog:
            log.warning("the workspace limits are held by the watchdog, which is weaker: %s", quota.why_watchdog)
        await progress.emit("workspace.limits", {"mechanism": quota.mechanism, "max_mb": s.workspace_max_mb,
                                                 "max_files": s.workspace_max_files, "reason": quota.why_watchdog},
                            lifecycle=False)
        return quota

    def _gates(self, task: Task, context: HydratedContext, ws: Workspace) -> DeliveryGates:
        """The repo's setup and test commands and the push, behind its rules and `approve_push`."""
        waiter = self._waiter(task, context)
        if waiter is None:
            return OpenGates()
        return ApprovalGates(context.approval_rules, pre_approved=set(task.pre_approved_rules or ()), waiter=waiter,
                             approve_push=context.approve_push, files_changed=ws.files_changed)

    def _egress_asker(self, task: Task, context: HydratedContext) -> EgressAsker | None:
        """`egress: ask`: unlisted hosts are refused and asked about (needs the approvals store)."""
        if context.egress != "ask" or self._waiter(task, context) is None:
            return None
        assert self._deps.approvals is not None  # a waiter exists only with the approvals store
        return EgressAsker(self._deps.approvals, task, recheck_seconds=self._settings.approval_poll_seconds)

    def _waiter(self, task: Task, context: HydratedContext) -> ApprovalWaiter | None:
        """Who asks the task's owner; None when nobody can be asked. An evaluation attempt has nobody to wait
        for: its repository's approval rules hold nothing and `egress: ask` refuses an unlisted host outright."""
        if self._deps.approvals is None or context.evaluation:
            return None
        return ApprovalWaiter(self._deps.approvals, self._deps.store, self.guard, task,
                              outbox=Outbox(self._deps.store, self._deps.publisher),
                              poll_seconds=self._settings.approval_poll_seconds)

    async def _publish(self, outcome: RunOutcome, task: Task) -> None:
        try:
            await self._deps.publisher.publish(outcome.finished_event(task))
        except PublishFailed as exc:
            # The result is on the task row; the finalizer also learns of the end when compute stops.
            log.error("could not publish AgentFinished: %s", exc)


def _price(context: HydratedContext) -> ModelPrice:
    """The price the hydrator resolved (operator prices included), else the catalog's; never a guess."""
    if context.model_price is not None:
        return context.model_price
    try:
        return price_for(context.model_id)
    except UnknownModel as exc:
        raise ModelNotPriced(str(exc)) from exc

"""Admission (a slot or the queue) and hydration (the agent's context) of submitted tasks."""

from __future__ import annotations

import logging

from services.hydrator.evals import CaseUnavailable, attempt_fields
from services.hydrator.pr_prompt import review_feedback
from services.hydrator.prompt import build_prompt
from services.hydrator.pulls import iteration_ahead, not_iterable
from services.hydrator.settings import HydratorSettings
from services.hydrator.url_attachments import AttachmentResolver
from shared.attachments.errors import AttachmentFetchFailed
from shared.attachments.models import AttachmentRef
from shared.evals.case_source import CaseSource
from shared.events.bus import EventPublisher
from shared.events.models import SlotReleased, TaskHydrated, TaskSubmitted
from shared.githost.errors import GitHostAuthError, GitHostError, GitHostNotFound, GitHostUnavailable
from shared.githost.models import Issue, PullContext
from shared.githost.protocol import GitHost
from shared.githost.status_comment import try_post_status
from shared.hydration.context import ContextStore, HydratedContext
from shared.llm.endpoints import UNPRICED, EndpointStore, ModelEndpoint
from shared.llm.errors import ModelCatalogError
from shared.llm.lifecycle import lifecycle_warning, today_utc
from shared.llm.lookup import price_for
from shared.llm.prices import ModelPrice
from shared.memory.store import MemoryEntry, MemoryStore
from shared.messaging.routing import routing_table
from shared.observability.metrics import MetricsSink, NullMetrics
from shared.repos.models import RepoConfig
from shared.repos.store import RepoStore
from shared.tasks.errors import SlotUnavailable, TaskNotFound, TransitionConflict
from shared.tasks.limits import effective
from shared.tasks.models import Task
from shared.tasks.outbox import Outbox
from shared.tasks.states import PENDING
from shared.tasks.states import TaskStatus as S
from shared.tasks.store import TaskStore

log = logging.getLogger(__name__)


class HydrationFailed(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class Hydrator:
    """Handles TaskSubmitted and SlotReleased."""

    def __init__(self, store: TaskStore, repos: RepoStore, git: GitHost, contexts: ContextStore,
                 bus: EventPublisher, settings: HydratorSettings, memory: MemoryStore | None = None,
                 metrics: MetricsSink | None = None, attachments: AttachmentResolver | None = None,
                 endpoints: EndpointStore | None = None, cases: CaseSource | None = None):
        self._attachments = attachments
        self._endpoints = endpoints
        self._cases = cases
        self._memory = memory
        self._metrics = metrics or NullMetrics()
        self._store = store
        self._repos = repos
        self._git = git
        self._contexts = contexts
        self._bus = bus
        self._outbox = Outbox(store, bus, self._metrics)
        self._settings = settings

    async def _cap(self, user_id: str) -> int:
        row = await self._store.get_concurrency(user_id)
        return row.max_concurrency or self._settings.default_max_concurrency

    async def on_submitted(self, event: TaskSubmitted) -> None:
        task = await self._store.get(event.task_id)
        if task is None:
            raise TaskNotFound(event.task_id)
        await self._outbox.recover(task)  # what an earlier attempt committed but could not publish
        repo: RepoConfig | None = None
        if task.status == S.SUBMITTED:
            repo = await self._repos.get(task.repo)
            if repo is None or not repo.active:
                await self._fail(task, "REPO_NOT_ONBOARDED", f"repository {task.repo} is not onboarded")
                return
            cap = await self._cap(task.user_id)
            # An evaluation attempt holds no slot of its owner's, so it never waits behind the owner's tasks.
            waiting = [] if task.eval_id else await self._store.oldest_queued(task.user_id, limit=1)
            if waiting and (waiting[0].created_at, waiting[0].task_id) < (task.created_at, task.task_id):
                # Older tasks are waiting for a slot: queue behind them instead of jumping ahead.
                await self._queue(task, cap, "older tasks of this user are queued")
                return
            ahead = await iteration_ahead(self._store, task)
            if ahead is not None:
                # Two agents pushing to one branch would race: the newer iteration waits its turn.
                await self._queue(task, cap, f"iteration {ahead.task_id} of PR #{task.pr_number} is not done yet")
                return
            try:
                task = await self._outbox.transition(task.task_id, S.HYDRATING, expected={S.SUBMITTED},
                                                     max_active=cap)
            except SlotUnavailable:
                await self._queue(task, cap, f"user at concurrency cap {cap}")
                return
        if task.status == S.HYDRATING and task.context_key is None:
            await self._hydrate(task, repo)
        elif task.status == S.HYDRATING:  # hydrated before a crash lost the event: send it again
            await self._bus.publish(TaskHydrated(task_id=task.task_id, user_id=task.user_id,
                                                 context_key=task.context_key))

    async def _queue(self, task: Task, cap: int, reason: str) -> None:
        await self._outbox.transition(task.task_id, S.QUEUED, expected={S.SUBMITTED},
                                      event_metadata={"reason": reason})
        # A slot freed between the admission attempt and the QUEUED write must not strand the task.
        if (await self._store.get_concurrency(task.user_id)).active_count < cap:
            await self._bus.publish(SlotReleased(user_id=task.user_id))

    async def on_slot_released(self, event: SlotReleased) -> None:
        """Admit the user's oldest queued tasks; each admission announces TaskSubmitted, whose handling
        hydrates it, so a hydration that fails after admission is retried like any other."""
        cap = await self._cap(event.user_id)
        for queued in await self._store.oldest_queued(event.user_id, limit=cap):
            if await iteration_ahead(self._store, queued) is not None:
                continue  # still behind an older iteration of its PR; that one's end admits it
            try:
                await self._outbox.transition(
                    queued.task_id, S.HYDRATING, expected={S.QUEUED}, max_active=cap,
                    event_metadata={"reason": "slot released"},
                    announce=[TaskSubmitted(task_id=queued.task_id, user_id=queued.user_id)])
            except SlotUnavailable:
                return
            except TransitionConflict:
                continue  # cancelled or admitted by a racing release

    async def _hydrate(self, task: Task, repo: RepoConfig | None = None) -> None:
        """Assemble and store the context; `repo` is the row admission just read, if it did."""
        repo = repo or await self._repos.get(task.repo)
        if repo is None or not repo.active:
            await self._fail(task, "REPO_NOT_ONBOARDED", f"repository {task.repo} is no longer onboarded")
            return
        try:
            context = await self._assemble(task, repo)
        except HydrationFailed as exc:
            await self._fail(task, exc.code, str(exc))
            return
        key = await self._contexts.put(context)
        pr_fields = {"branch_name": context.branch_name, "pr_url": context.pr_url} if context.pr_number else {}
        await self._store.update(task.task_id, {
            "context_key": key, "prompt_version": context.prompt_version, "model_id": context.model_id,
            "engine": context.engine, "max_turns": context.max_turns, "max_budget_usd": context.max_budget_usd,
            **pr_fields,
        }, expected_status=S.HYDRATING)
        await self._bus.publish(TaskHydrated(task_id=task.task_id, user_id=task.user_id, context_key=key))

    async def _assemble(self, task: Task, repo: RepoConfig) -> HydratedContext:
        s = self._settings
        try:
            info = await self._git.get_repository(task.repo)
        except GitHostError as exc:
            raise _classified(exc, "repository") from exc
        issue = await self._issue(task)
        pull = await self._pull(task)
        chosen = effective(task, repo, s)
        # A task the gateway did not vet (a schedule's run, after its repo changed engine) fails here, before a run.
        missing = s.engine_unavailable(chosen.engine)
        if missing is not None:
            raise HydrationFailed("ENGINE_UNAVAILABLE", missing)
        endpoint = await self._endpoint(task)
        price = _endpoint_price(endpoint, chosen.model_id, chosen.model_prices) if endpoint else \
            _model_price(chosen.model_id, chosen.model_prices)
        try:
            attempt = await attempt_fields(task, repo, self._cases)
        except CaseUnavailable as exc:
            raise HydrationFailed("EVAL_CASE_UNAVAILABLE", str(exc)) from exc
        memory = [] if attempt else await self._recall(task.repo)  # evaluation attempts stay independent
        attachments = await self._resolve_attachments(task)
        prompt = build_prompt(task, repo, issue, model_id=chosen.model_id, token_budget=s.context_token_budget,
                              base_system=s.system_prompt, memory=memory, memory_budget=s.memory_token_budget,
                              pull=pull)
        pr = pull.pull if pull else None
        context = HydratedContext(
            task_id=task.task_id, repo=task.repo, clone_url=info.clone_url,
            default_branch=pr.base if pr else info.default_branch, branch_name=pr.head if pr else task.branch_name,
            task_type=task.task_type, pr_number=pr.number if pr else None, pr_url=pr.url if pr else None,
            pr_head_sha=pr.head_sha if pr else None, review_feedback=review_feedback(pull) if pull else [],
            git_host=repo.git_host, system_prompt=prompt.system,
            user_prompt=prompt.user, prompt_version=prompt.version, model_id=chosen.model_id, model_price=price,
            max_turns=chosen.max_turns, max_budget_usd=chosen.max_budget_usd,
            setup_command=repo.setup_command, test_command=repo.test_command, issue_number=task.issue_number,
            issue_title=issue.title if issue else None, github_token_secret=repo.github_token_secret,
            save_trajectory=task.save_trajectory, attachments=attachments, approval_rules=repo.approval_rules,
            egress_allowlist=repo.egress_allowlist, sandbox_readonly_paths=repo.sandbox_readonly_paths,
            egress=repo.egress, approve_push=repo.approve_push, engine=chosen.engine, mcp_servers=repo.mcp_servers,
            model_endpoint=endpoint.ref if endpoint else None,
        )
        return context.model_copy(update=attempt)  # an evaluation attempt's base and setup, else nothing

    async def _endpoint(self, task: Task) -> ModelEndpoint | None:
        """The registered endpoint the task names; a name no longer registered fails the task readably."""
        if not task.model_endpoint:
            return None
        found = await self._endpoints.get(task.model_endpoint) if self._endpoints is not None else None
        if found is None:
            raise HydrationFailed("MODEL_UNAVAILABLE", f"model endpoint {task.model_endpoint} is not registered")
        return found

    async def _resolve_attachments(self, task: Task) -> list[AttachmentRef]:
        if not task.attachments:
            return []
        if self._attachments is None:
            raise HydrationFailed("HYDRATION_FAILED", "this hydrator cannot read attachments")
        try:
            return await self._attachments.resolve(task.task_id, task.attachments)
        except AttachmentFetchFailed as exc:
            raise HydrationFailed("ATTACHMENT_FETCH_FAILED", str(exc)) from exc

    async def _recall(self, repo: str) -> list[MemoryEntry]:
        if self._memory is None or not self._settings.memory_token_budget:
            return []
        return [*await self._memory.recent(repo, "learning", limit=20),
                *await self._memory.recent(repo, "episode", limit=10)]

    async def _issue(self, task: Task) -> Issue | None:
        if not task.issue_number:
            return None
        try:
            return await self._git.get_issue(task.repo, task.issue_number)
        except GitHostError as exc:
            if task.task_description and isinstance(exc, GitHostUnavailable):
                log.warning("issue unavailable; hydrating from the description alone", extra={"error": str(exc)})
                await self._store.append_event(task.task_id, "hydration.degraded", {"reason": str(exc)})
                return None
            raise _classified(exc, f"issue #{task.issue_number}") from exc

    async def _pull(self, task: Task) -> PullContext | None:
        if task.task_type == "new_task" or task.pr_number is None:
            return None
        try:
            pull = await self._git.pull_context(task.repo, task.pr_number)
        except GitHostNotFound as exc:
            raise HydrationFailed("PR_NOT_FOUND", f"{task.repo} has no pull request #{task.pr_number} "
                                  "(or the platform's token cannot see it)") from exc
        except GitHostError as exc:
            raise _classified(exc, f"pull request #{task.pr_number}") from exc
        reason = not_iterable(task, pull.pull)
        if reason:
            raise HydrationFailed("PR_NOT_ITERABLE", reason)
        return pull

    async def _fail(self, task: Task, code: str, message: str) -> None:
        """FAILED; the transition announces TaskFailed, and SlotReleased if it held a slot."""
        failed = await self._outbox.transition(
            task.task_id, S.FAILED, expected=PENDING,
            changes={"error_code": code, "error_message": message}, event_metadata={"error_code": code})
        await try_post_status(self._git, failed)  # best effort: the task's one GitHub comment says why


def _model_price(model_id: str, overrides: dict[str, ModelPrice]) -> ModelPrice:
    """The price the agent budgets with; a retired or unpriced model fails the task before any model call."""
    try:
        lifecycle_warning(model_id, today_utc())
        return price_for(model_id, overrides)
    except ModelCatalogError as exc:
        raise HydrationFailed("MODEL_UNAVAILABLE", str(exc)) from exc


def _endpoint_price(endpoint: ModelEndpoint, model_id: str, overrides: dict[str, ModelPrice]) -> ModelPrice:
    """An endpoint's own price, else the catalog's for a model it knows, else (practically) nothing."""
    try:
        return endpoint.model_price() or price_for(model_id, overrides)
    except ModelCatalogError:
        return UNPRICED


def _classified(exc: GitHostError, what: str) -> HydrationFailed:
    if isinstance(exc, GitHostNotFound):
        return HydrationFailed("GITHUB_NOT_FOUND", f"GitHub has no {what} (or the token cannot see it)")
    if isinstance(exc, GitHostAuthError):
        return HydrationFailed("GITHUB_AUTH", f"GitHub refused the platform's token while reading the {what}")
    if isinstance(exc, GitHostUnavailable):
        return HydrationFailed("GITHUB_UNAVAILABLE", f"GitHub did not answer while reading the {what}: {exc}")
    return HydrationFailed("HYDRATION_FAILED", f"reading the {what} failed: {exc}")


HANDLERS = routing_table("hydrator", {TaskSubmitted: Hydrator.on_submitted, SlotReleased: Hydrator.on_slot_released})

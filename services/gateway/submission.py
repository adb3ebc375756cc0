"""Turning an accepted request (REST, signed webhook or GitHub) into a SUBMITTED task, exactly once per key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.gateway.attachments import discard_attachments, prepare_attachments, store_attachments
from services.gateway.deps import GatewayDeps
from services.gateway.notify import announce, outbox
from services.gateway.refusals import (
    EngineUnavailable,
    InvalidField,
    KeyUsedElsewhere,
    PrNotFound,
    PrNotYours,
    RepoNotOnboarded,
    TryAgainShortly,
)
from services.gateway.schemas import CreateTaskRequest
from shared.engines import Engine
from shared.events.models import TaskSubmitted
from shared.githost.errors import GitHostError, GitHostNotFound
from shared.githost.models import PullRequest
from shared.llm.errors import ModelCatalogError
from shared.llm.lifecycle import vet_model
from shared.observability.redaction import redact
from shared.pull_outcomes.access import may_work_on_pull
from shared.repos.models import RepoConfig
from shared.schedules.models import TaskTemplate
from shared.tasks.errors import IdempotencyConflict
from shared.tasks.limits import effective
from shared.tasks.models import Task


@dataclass(frozen=True)
class Submission:
    task: Task
    replayed: bool


async def submit_task(d: GatewayDeps, *, user_id: str, body: CreateTaskRequest, channel_source: str,
                      channel_metadata: dict[str, Any] | None = None, idempotency_key: str | None = None,
                      check_pr_opener: bool = True) -> Submission:
    """Create the task and announce it; a key already bound to one of this user's tasks replays that
    task, a key bound to another user's is DUPLICATE_TASK (keys are global, namespaced by channel).
    `check_pr_opener=False` only for GitHub's @bgagent path, whose rule is the sender's write access."""
    prepared = prepare_attachments(body.attachments)
    repo = await d.repos.get(body.repo)
    if repo is None or not repo.active:
        raise RepoNotOnboarded(body.repo)
    if repo.local_path and body.issue_number is not None:
        raise InvalidField("issue_number", f"{body.repo} is a local repository: it has no issues; describe the task")
    await check_model_endpoint(d, body.model_endpoint)
    model_id, warnings = vet_task_model(d, body, repo)
    engine = vet_task_engine(d, body, repo)
    # A description is copied into prompts, events, commits and PRs: secrets this process knows (webhook
    # secrets included) and credential-shaped strings are masked before anything stores it.
    description = redact(body.task_description) if body.task_description else None
    pull = await _pull(d, body, can_tell=repo.git_host == "local" or bool(d.settings.github_token))
    if check_pr_opener:
        await check_pull_access(d, repo, body.pr_number, user_id)
    task = Task.new(user_id=user_id, repo=body.repo, task_description=description,
                    issue_number=body.issue_number, max_turns=body.max_turns, max_budget_usd=body.max_budget_usd,
                    model_id=body.model_id, model_endpoint=body.model_endpoint, engine=engine,
                    channel_source=channel_source, channel_metadata=channel_metadata, idempotency_key=idempotency_key,
                    save_trajectory=body.save_trajectory, warnings=warnings or None,
                    pre_approved_rules=body.pre_approved_rules,
                    task_type=body.task_type or "new_task", pr_number=body.pr_number,
                    branch_name=pull.head if pull else None, pr_url=pull.url if pull else None)
    if prepared:  # content first: a task row never points at an attachment that is not stored
        task.attachments = await store_attachments(d.attachments, task.task_id, prepared)
    try:
        created = await d.tasks.create(task, announce=[TaskSubmitted(task_id=task.task_id, user_id=user_id)])
    except IdempotencyConflict as exc:
        await discard_attachments(d.attachments, task.attachments or [])
        return await _replay(d, exc, user_id)
    except BaseException:
        await discard_attachments(d.attachments, task.attachments or [])
        raise
    if warnings:
        await d.tasks.append_event(created.task_id, "model.deprecated", {"model_id": model_id, "warnings": warnings})
    await announce(outbox(d.tasks, d.bus), created)
    return Submission(created, replayed=False)


async def check_model_endpoint(d: GatewayDeps, name: str | None) -> None:
    """A named model endpoint must be registered: 400 naming model_endpoint otherwise."""
    if name is not None and (d.model_endpoints is None or await d.model_endpoints.get(name) is None):
        raise InvalidField("model_endpoint", f"no model endpoint named {name} is registered")


def vet_task_model(d: GatewayDeps, body: CreateTaskRequest | TaskTemplate, repo: RepoConfig) -> tuple[str, list[str]]:
    """The model the task will run (its own, the repo's, the platform's) and its warnings; refused when it
    is past its end of life or has no price (unless a model endpoint serves it: its prices are its own)."""
    chosen = effective(body, repo, d.settings)
    if body.model_endpoint is not None:
        return chosen.model_id, []
    try:
        return chosen.model_id, vet_model(chosen.model_id, chosen.model_prices, today=d.today())
    except ModelCatalogError as exc:
        raise InvalidField("model_id", str(exc)) from exc


def vet_task_engine(d: GatewayDeps, body: CreateTaskRequest | TaskTemplate, repo: RepoConfig) -> Engine:
    """The engine the task will run (its own, the repo's, the platform's); refused, with the install command,
    when this deployment does not have it: a run never discovers it."""
    engine = effective(body, repo, d.settings).engine
    why = d.settings.engine_unavailable(engine)
    if why is not None:
        raise EngineUnavailable(why)
    return engine


async def check_pull_access(d: GatewayDeps, repo: RepoConfig, pr_number: int | None, user_id: str) -> None:
    """A PR task only on a PR one of the user's tasks opened, unless the repo says `pr_tasks: any_user`."""
    if pr_number is not None and not await may_work_on_pull(d.pull_outcomes, repo, pr_number, user_id):
        raise PrNotYours(repo.repo, pr_number)


async def _pull(d: GatewayDeps, body: CreateTaskRequest, *, can_tell: bool) -> PullRequest | None:
    """The pull request a PR task names: 422 PR_NOT_FOUND when the host says it does not exist; None
    when the host cannot tell now, or at all (GitHub without a token hides private repositories): the
    hydrator reads it again and fails the task readably."""
    if body.pr_number is None or d.git is None or not can_tell:
        return None
    try:
        return await d.git.get_pull(body.repo, body.pr_number)
    except GitHostNotFound as exc:
        raise PrNotFound(f"{body.repo} has no pull request #{body.pr_number} "
                         "(or the platform's token cannot see it)") from exc
    except GitHostError:
        return None


async def _replay(d: GatewayDeps, conflict: IdempotencyConflict, user_id: str) -> Submission:
    if conflict.user_id != user_id:
        raise KeyUsedElsewhere("this idempotency key was already used by another request") from conflict
    existing = await d.tasks.get(conflict.task_id)
    if existing is None:
        raise TryAgainShortly("the task for this idempotency key is not readable yet; retry") from conflict
    return Submission(existing, replayed=True)

"""Listing a user's tasks, newest first, with the API's filters: one function for the API and the panel."""

from __future__ import annotations

from services.gateway.deps import GatewayDeps
from services.gateway.refusals import InvalidRequest
from shared.aws.pagination import InvalidToken
from shared.repos.models import valid_repo_name
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus


def parse_statuses(raw: str | None) -> list[TaskStatus] | None:
    """A comma-separated list of statuses (any case); None for no filter."""
    if not raw:
        return None
    names = [s.strip().upper() for s in raw.split(",") if s.strip()]
    unknown = [n for n in names if n not in TaskStatus.__members__]
    if unknown or not names:
        raise InvalidRequest(f"status must be a comma-separated list of {', '.join(TaskStatus)}",
                             details=[{"field": "status", "message": f"unknown status {n[:40]!r}"} for n in unknown])
    return [TaskStatus(n) for n in names]


async def list_user_tasks(d: GatewayDeps, user_id: str, *, status: str | None = None, repo: str | None = None,
                          limit: int = 20, next_token: str | None = None) -> tuple[list[Task], str | None]:
    """One page of the user's tasks and the token of the next one."""
    statuses = parse_statuses(status)
    if repo is not None and not valid_repo_name(repo):
        raise InvalidRequest("repo must look like OWNER/NAME",
                             details=[{"field": "repo", "message": "not OWNER/NAME"}])
    try:
        return await d.tasks.list_for_user(user_id, statuses=statuses, repo=repo, limit=limit, next_token=next_token)
    except InvalidToken as exc:
        raise InvalidRequest("next_token is not valid for this listing") from exc

"""The task routes: create, read, events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from services.gateway.auth import Principal
from services.gateway.deps import GatewayDeps, deps, principal
from services.gateway.errors import ApiError
from services.gateway.schemas import CreateTaskRequest, EventView, Pagination, TaskView
from shared.aws.pagination import InvalidToken
from shared.events.models import TaskSubmitted
from shared.tasks.errors import IdempotencyConflict
from shared.tasks.models import Task

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])

Caller = Annotated[Principal, Depends(principal)]
Deps = Annotated[GatewayDeps, Depends(deps)]


async def _owned(d: GatewayDeps, task_id: str, caller: Principal) -> Task:
    """Another user's task answers exactly like a missing one: 404 TASK_NOT_FOUND."""
    task = await d.tasks.get(task_id) if len(task_id) <= 64 else None
    if task is None or task.user_id != caller.user_id:
        raise ApiError("TASK_NOT_FOUND", f"task {task_id} not found")
    return task


@router.post("", status_code=201)
async def create_task(body: CreateTaskRequest, caller: Caller, d: Deps, response: Response,
                      idempotency_key: Annotated[str | None, Header(max_length=128)] = None) -> dict:
    repo = await d.repos.get(body.repo)
    if repo is None or not repo.active:
        raise ApiError("REPO_NOT_ONBOARDED", f"repository {body.repo} is not onboarded")
    task = Task.new(user_id=caller.user_id, repo=body.repo, task_description=body.task_description,
                    issue_number=body.issue_number, max_turns=body.max_turns, max_budget_usd=body.max_budget_usd,
                    model_id=body.model_id, channel_source="api",
                    idempotency_key=f"task#{idempotency_key}" if idempotency_key else None)
    try:
        task = await d.tasks.create(task)
    except IdempotencyConflict as exc:
        if exc.user_id != caller.user_id:
            raise ApiError("DUPLICATE_TASK", "this Idempotency-Key was used by another request") from exc
        existing = await d.tasks.get(exc.task_id)
        if existing is None:
            raise ApiError("SERVICE_UNAVAILABLE", "the task for this Idempotency-Key is not readable yet") from exc
        response.status_code = 200
        response.headers["Idempotent-Replay"] = "true"
        return {"data": TaskView.of(existing).model_dump(mode="json")}
    await d.bus.publish(TaskSubmitted(task_id=task.task_id, user_id=task.user_id))
    response.headers["Location"] = f"/v1/tasks/{task.task_id}"
    return {"data": TaskView.of(task).model_dump(mode="json")}


@router.get("/{task_id}")
async def get_task(task_id: str, caller: Caller, d: Deps) -> dict:
    return {"data": TaskView.of(await _owned(d, task_id, caller)).model_dump(mode="json")}


@router.get("/{task_id}/events")
async def list_events(task_id: str, caller: Caller, d: Deps,
                      limit: Annotated[int, Query(ge=1, le=100)] = 50,
                      next_token: Annotated[str | None, Query(max_length=2048)] = None) -> dict:
    await _owned(d, task_id, caller)
    try:
        events, token = await d.tasks.list_events(task_id, limit=limit, next_token=next_token)
    except InvalidToken as exc:
        raise ApiError("VALIDATION_ERROR", str(exc)) from exc
    return {"data": [EventView.of(e).model_dump(mode="json") for e in events],
            "pagination": Pagination(next_token=token, has_more=token is not None).model_dump()}

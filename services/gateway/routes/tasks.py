"""The task routes: create, list, read, cancel, events, an evaluation attempt's diff."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response

from services.gateway import cancellation
from services.gateway.auth import Principal
from services.gateway.deps import Caller, Deps, GatewayDeps, Writer
from services.gateway.listing import list_user_tasks
from services.gateway.openapi import AUTHENTICATED, WRITES, errors, success_headers
from services.gateway.refusals import InvalidRequest, NoDiff, NoSuchTask
from services.gateway.schemas import (
    CreateTaskRequest,
    EventListResponse,
    EventView,
    Pagination,
    TaskListResponse,
    TaskResponse,
    TaskView,
)
from services.gateway.submission import Submission, submit_task
from shared.aws.pagination import InvalidToken
from shared.repos.models import REPO_PATTERN
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")  # visible ASCII
_TASK_ID = re.compile(r"^[0-9A-Za-z]{1,64}$")


async def owned_task(d: GatewayDeps, task_id: str, caller: Principal) -> Task:
    """Another user's task answers exactly like a missing one: 404 TASK_NOT_FOUND."""
    task = await d.tasks.get(task_id) if _TASK_ID.match(task_id) else None
    if task is None or task.user_id != caller.user_id:
        raise NoSuchTask(f"task {task_id[:64]} not found")
    return task


_ONE_STATUS = "(" + "|".join(TaskStatus) + ")"
_STATUS_LIST = f"(?i)^{_ONE_STATUS}(,{_ONE_STATUS})*$"


@router.post("", status_code=201, response_model=TaskResponse, summary="Submit a task",
             responses={**errors(*AUTHENTICATED, *WRITES, "DUPLICATE_TASK", "REPO_NOT_ONBOARDED", "PR_NOT_FOUND",
                                       "PR_NOT_YOURS", "ENGINE_UNAVAILABLE"),
                        200: {"model": TaskResponse, "description": "an Idempotency-Key replay: the existing task",
                              "headers": success_headers(Idempotent_Replay="true")},
                        201: {"headers": success_headers(Location="the new task's URL")}})
async def create_task(body: CreateTaskRequest, caller: Writer, d: Deps, response: Response,
                      idempotency_key: Annotated[str | None, Header(max_length=128)] = None) -> TaskResponse:
    if idempotency_key is not None and not _IDEMPOTENCY_KEY.match(idempotency_key):
        raise InvalidRequest("Idempotency-Key must be 1-128 visible ASCII characters")
    submitted = await submit_task(d, user_id=caller.user_id, body=body, channel_source="api",
                                  idempotency_key=f"task#{idempotency_key}" if idempotency_key else None)
    return submission_response(submitted, response)


def submission_response(submitted: Submission, response: Response) -> TaskResponse:
    """201 and Location for a new task; 200 and Idempotent-Replay for a replayed one."""
    if submitted.replayed:
        response.status_code = 200
        response.headers["Idempotent-Replay"] = "true"
    else:
        response.status_code = 201
        response.headers["Location"] = f"/v1/tasks/{submitted.task.task_id}"
    return TaskResponse(data=TaskView.of(submitted.task))


@router.get("", response_model=TaskListResponse, summary="List your tasks, newest first",
            responses=errors(*AUTHENTICATED))
async def list_tasks(caller: Caller, d: Deps,
                     status: Annotated[str | None, Query(max_length=200, description="comma-separated statuses",
                                                         pattern=_STATUS_LIST)] = None,
                     repo: Annotated[str | None, Query(max_length=200, description="OWNER/NAME",
                                                       pattern=REPO_PATTERN.pattern)] = None,
                     limit: Annotated[int, Query(ge=1, le=100)] = 20,
                     next_token: Annotated[str | None, Query(max_length=2048)] = None) -> TaskListResponse:
    tasks, token = await list_user_tasks(d, caller.user_id, status=status, repo=repo, limit=limit,
                                         next_token=next_token)
    return TaskListResponse(data=[TaskView.of(t) for t in tasks],
                            pagination=Pagination(next_token=token, has_more=token is not None))


@router.get("/{task_id}", response_model=TaskResponse, summary="Read one of your tasks",
            responses=errors(*AUTHENTICATED, "TASK_NOT_FOUND"))
async def get_task(task_id: str, caller: Caller, d: Deps) -> TaskResponse:
    return TaskResponse(data=TaskView.of(await owned_task(d, task_id, caller)))


@router.delete("/{task_id}", response_model=TaskResponse, summary="Cancel one of your tasks",
               description="Cancels a SUBMITTED, QUEUED, HYDRATING, RUNNING or AWAITING_APPROVAL task and answers "
                           "200 with the CANCELLED task. A FINALIZING task is already recording its result: 409.",
               responses=errors(*AUTHENTICATED, "RATE_LIMIT_EXCEEDED", "TASK_NOT_FOUND", "TASK_ALREADY_TERMINAL"))
async def cancel_task(task_id: str, caller: Writer, d: Deps) -> TaskResponse:
    task = await owned_task(d, task_id, caller)
    return TaskResponse(data=TaskView.of(await cancellation.cancel_task(d, task)))


@router.get("/{task_id}/events", response_model=EventListResponse, summary="A task's audit trail, oldest first",
            responses=errors(*AUTHENTICATED, "TASK_NOT_FOUND"))
async def list_task_events(task_id: str, caller: Caller, d: Deps,
                      limit: Annotated[int, Query(ge=1, le=100)] = 50,
                      next_token: Annotated[str | None, Query(max_length=2048)] = None) -> EventListResponse:
    await owned_task(d, task_id, caller)
    try:
        events, token = await d.tasks.list_events(task_id, limit=limit, next_token=next_token)
    except InvalidToken as exc:
        raise InvalidRequest("next_token is not valid for this listing") from exc
    return EventListResponse(data=[EventView.of(e) for e in events],
                             pagination=Pagination(next_token=token, has_more=token is not None))


_DIFF: dict[int | str, dict[str, Any]] = {
    200: {"description": "the attempt's change from its case's base, as `git apply` takes it",
          "content": {"text/x-diff": {"schema": {"type": "string"}}}}}


@router.get("/{task_id}/diff", summary="An evaluation attempt's diff", response_class=Response,
            responses={**_DIFF, **errors(*AUTHENTICATED, "TASK_NOT_FOUND", "DIFF_NOT_FOUND")})
async def get_task_diff(task_id: str, caller: Caller, d: Deps) -> Response:
    """The diff an evaluation attempt left instead of a push (text/x-diff; empty when it changed nothing)."""
    task = await owned_task(d, task_id, caller)
    if not task.diff_key:
        raise NoDiff(f"task {task_id} keeps no diff: only evaluation attempts do (others push a branch)")
    # The artifacts bucket's byte store (attachments live there too).
    return Response(await d.attachments.get(task.diff_key), media_type="text/x-diff")

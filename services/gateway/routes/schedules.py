"""Scheduled tasks: create, list, read, change (pause/resume), delete — owner only."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import ValidationError

from services.gateway.auth import Principal
from services.gateway.deps import Caller, Deps, GatewayDeps, Writer
from services.gateway.openapi import AUTHENTICATED, WRITES, errors
from services.gateway.refusals import InvalidRequest, NoSuchSchedule, RepoNotOnboarded, TryAgainShortly
from services.gateway.schedule_schemas import (
    TASK_FIELDS,
    CreateScheduleRequest,
    ScheduleListResponse,
    ScheduleResponse,
    ScheduleView,
    UpdateScheduleRequest,
    template_of,
)
from services.gateway.schemas import Pagination
from services.gateway.submission import check_model_endpoint, check_pull_access, vet_task_engine, vet_task_model
from shared.aws.pagination import InvalidToken
from shared.clock import stamp, utcnow
from shared.observability.redaction import redact
from shared.schedules.errors import ScheduleChanged, ScheduleNotFound
from shared.schedules.models import Schedule, TaskTemplate
from shared.schedules.timing import next_due

router = APIRouter(prefix="/v1/schedules", tags=["schedules"])
_SCHEDULE_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_UPDATE_ATTEMPTS = 3


def _next_run(cron: str | None, rate: str | None, tz: str) -> str:
    due = next_due(cron=cron, rate=rate, tz=tz, after=datetime.now(timezone.utc))
    return stamp(due)


async def _owned(d: GatewayDeps, schedule_id: str, caller: Principal) -> Schedule:
    """Another user's schedule answers exactly like a missing one: 404 SCHEDULE_NOT_FOUND."""
    found = await d.schedules.get(schedule_id) if _SCHEDULE_ID.match(schedule_id) else None
    if found is None or found.user_id != caller.user_id:
        raise NoSuchSchedule(f"schedule {schedule_id[:64]} not found")
    return found


def _template(fields: dict[str, Any]) -> TaskTemplate:
    """The schedule's task, validated as POST /v1/tasks validates it; 400 naming the fields otherwise."""
    try:
        return template_of(fields)
    except ValidationError as exc:
        raise InvalidRequest.naming("the schedule's task is not valid", exc) from exc


async def _check_task(d: GatewayDeps, template: TaskTemplate, user_id: str) -> None:
    """The repository is onboarded, the model the runs would use can be priced and is not retired, their engine
    is installed, and a PR the runs work on is the user's (each run is checked again: the repo's pr_tasks may
    change)."""
    config = await d.repos.get(template.repo)
    if config is None or not config.active:
        raise RepoNotOnboarded(template.repo)
    await check_model_endpoint(d, template.model_endpoint)
    vet_task_model(d, template, config)
    vet_task_engine(d, template, config)
    await check_pull_access(d, config, template.pr_number, user_id)


@router.post("", status_code=201, response_model=ScheduleResponse, summary="Create a schedule",
             description="One task is created per due time, owned by you, with channel_source `schedule`.",
             responses=errors(*AUTHENTICATED, *WRITES, "REPO_NOT_ONBOARDED", "PR_NOT_YOURS",
                              "ENGINE_UNAVAILABLE"))
async def create_schedule(body: CreateScheduleRequest, caller: Writer, d: Deps) -> ScheduleResponse:
    template = _template(body.model_dump(include=set(TASK_FIELDS), exclude_none=True))
    await _check_task(d, template, caller.user_id)
    if template.task_description:  # copied into every run's prompt, commit and PR
        template = template.model_copy(update={"task_description": redact(template.task_description)})
    tz = body.timezone or "UTC"
    schedule = Schedule(user_id=caller.user_id, name=body.name, cron=body.cron, rate=body.rate, timezone=tz,
                        overlap=body.overlap or "skip", template=template,
                        next_run_at=_next_run(body.cron, body.rate, tz))
    return ScheduleResponse(data=ScheduleView.of(await d.schedules.create(schedule)))


@router.get("", response_model=ScheduleListResponse, summary="List your schedules, oldest first",
            responses=errors(*AUTHENTICATED))
async def list_schedules(caller: Caller, d: Deps, limit: Annotated[int, Query(ge=1, le=100)] = 20,
                         next_token: Annotated[str | None, Query(max_length=2048)] = None) -> ScheduleListResponse:
    try:
        rows, token = await d.schedules.list_for_user(caller.user_id, limit=limit, next_token=next_token)
    except InvalidToken as exc:
        raise InvalidRequest("next_token is not valid for this listing") from exc
    return ScheduleListResponse(data=[ScheduleView.of(s) for s in rows],
                                pagination=Pagination(next_token=token, has_more=token is not None))


@router.get("/{schedule_id}", response_model=ScheduleResponse, summary="Read one of your schedules",
            responses=errors(*AUTHENTICATED, "SCHEDULE_NOT_FOUND"))
async def get_schedule(schedule_id: str, caller: Caller, d: Deps) -> ScheduleResponse:
    return ScheduleResponse(data=ScheduleView.of(await _owned(d, schedule_id, caller)))


@router.patch("/{schedule_id}", response_model=ScheduleResponse, summary="Change, pause or resume a schedule",
              description="Only the fields given change. Resuming, or changing cron, rate or timezone, counts the "
                          "next run from now: runs missed while paused are not made up.",
              responses=errors(*AUTHENTICATED, *WRITES, "SCHEDULE_NOT_FOUND", "REPO_NOT_ONBOARDED",
                                         "PR_NOT_YOURS", "ENGINE_UNAVAILABLE"))
async def update_schedule(schedule_id: str, body: UpdateScheduleRequest, caller: Writer, d: Deps) -> ScheduleResponse:
    given = body.model_dump(exclude_unset=True)
    nulls = [k for k, v in given.items() if v is None]
    if nulls:
        raise InvalidRequest("fields of a schedule cannot be set to null",
                             details=[{"field": k, "message": "must not be null"} for k in nulls])
    for _ in range(_UPDATE_ATTEMPTS):
        current = await _owned(d, schedule_id, caller)
        changes = await _changes(d, current, given)
        try:
            updated = await d.schedules.update(schedule_id, changes, expect={})
        except ScheduleChanged:
            continue  # a run or another edit got there first: apply the request to what is there now
        except ScheduleNotFound as exc:
            raise NoSuchSchedule(f"schedule {schedule_id[:64]} not found") from exc
        return ScheduleResponse(data=ScheduleView.of(updated))
    raise TryAgainShortly("the schedule is changing too often; retry")


async def _changes(d: GatewayDeps, current: Schedule, given: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {k: v for k, v in given.items() if k in ("name", "overlap", "timezone", "paused")}
    task_fields = {k: v for k, v in given.items() if k in TASK_FIELDS}
    if task_fields:
        merged = {**current.template.model_dump(exclude_none=True), **task_fields}
        template = _template(merged)
        await _check_task(d, template, current.user_id)
        if "task_description" in task_fields and template.task_description:
            template = template.model_copy(update={"task_description": redact(template.task_description)})
        changes["template"] = template
    if "cron" in given:
        changes.update(cron=given["cron"], rate=None)
    if "rate" in given:
        changes.update(rate=given["rate"], cron=None)
    resumed = given.get("paused") is False and current.paused
    if resumed:
        changes["paused_reason"] = None
    if resumed or {"cron", "rate", "timezone"} & set(given):
        changes["next_run_at"] = _next_run(changes.get("cron", current.cron), changes.get("rate", current.rate),
                                           changes.get("timezone", current.timezone))
    return changes


@router.delete("/{schedule_id}", response_model=ScheduleResponse, summary="Delete one of your schedules",
               description="Answers with the schedule as it was. Tasks it already created are not affected.",
               responses=errors(*AUTHENTICATED, "RATE_LIMIT_EXCEEDED", "SCHEDULE_NOT_FOUND"))
async def delete_schedule(schedule_id: str, caller: Writer, d: Deps) -> ScheduleResponse:
    current = await _owned(d, schedule_id, caller)
    try:
        await d.schedules.delete(schedule_id)
    except ScheduleNotFound as exc:
        raise NoSuchSchedule(f"schedule {schedule_id[:64]} not found") from exc
    return ScheduleResponse(data=ScheduleView.of(current.model_copy(update={"updated_at": utcnow()})))

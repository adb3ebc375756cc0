"""Request and response bodies of the schedule routes (flat: the schedule's own fields beside the task's)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.gateway.schemas import CreateTaskRequest, Pagination
from shared.repos.models import REPO_PATTERN
from shared.schedules.models import Schedule, TaskTemplate
from shared.schedules.timing import check_cron, rate_seconds, zone
from shared.tasks.fields import TaskFields

_RATE_PATTERN = r"^rate\([1-9][0-9]{0,4} (minute|minutes|hour|hours|day|days)\)$"
TASK_FIELDS = tuple(TaskFields.model_fields)


class _ScheduleFields(TaskFields):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(None, min_length=1, max_length=100)
    cron: str | None = Field(None, max_length=100, description="five fields: minute hour day-of-month month weekday",
                             json_schema_extra={"pattern": r"^\S+( +\S+){4}$"})
    rate: str | None = Field(None, max_length=40, description="rate(N minutes|hours|days)",
                             json_schema_extra={"pattern": _RATE_PATTERN})
    timezone: str | None = Field(None, max_length=64, description="IANA name the cron is read in (default UTC)",
                                 json_schema_extra={"pattern": r"^[A-Za-z][A-Za-z0-9_+/-]*$"})
    overlap: Literal["skip", "allow"] | None = Field(
        None, description="skip (default): no new run while the previous one is not terminal")
    repo: str | None = Field(None, json_schema_extra={"pattern": REPO_PATTERN.pattern})

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return check_cron(value) if value is not None else None

    @field_validator("rate")
    @classmethod
    def _rate(cls, value: str | None) -> str | None:
        if value is not None:
            rate_seconds(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        if value is not None:
            zone(value)
        return value


class CreateScheduleRequest(_ScheduleFields):
    name: str = Field(..., min_length=1, max_length=100)
    repo: str = Field(..., description="OWNER/NAME of an onboarded repository",
                      json_schema_extra={"pattern": REPO_PATTERN.pattern})

    @model_validator(mode="after")
    def _one_expression(self) -> "CreateScheduleRequest":
        if (self.cron is None) == (self.rate is None):
            raise ValueError("give exactly one of cron and rate")
        return self


class UpdateScheduleRequest(_ScheduleFields):
    """Only the fields given change; `paused` pauses or resumes."""

    paused: bool | None = None

    @model_validator(mode="after")
    def _at_most_one_expression(self) -> "UpdateScheduleRequest":
        if self.cron is not None and self.rate is not None:
            raise ValueError("give at most one of cron and rate")
        return self


def template_of(fields: dict[str, Any]) -> TaskTemplate:
    """A task template from task fields, through the task-creation body's own validation."""
    body = CreateTaskRequest.model_validate({k: v for k, v in fields.items() if k in CreateTaskRequest.model_fields})
    return TaskTemplate.model_validate(body.model_dump(exclude_none=True))


class ScheduleView(BaseModel):
    """A schedule as its owner sees it."""

    schedule_id: str
    name: str
    cron: str | None = None
    rate: str | None = None
    timezone: str
    overlap: str
    paused: bool
    paused_reason: str | None = None
    repo: str
    task_description: str | None = None
    issue_number: int | None = None
    task_type: str | None = None
    pr_number: int | None = None
    max_turns: int | None = None
    max_budget_usd: float | None = None
    model_id: str | None = None
    engine: str | None = Field(None, description="the runs' engine when the schedule names one")
    next_run_at: str | None = Field(None, description="absent while paused")
    last_run_at: str | None = None
    last_task_id: str | None = None
    runs: int
    skipped_runs: int
    last_skipped_at: str | None = None
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, s: Schedule) -> "ScheduleView":
        data = s.model_dump(exclude={"template", "user_id", "version"})
        data.update(s.template.model_dump())
        if s.paused:
            data["next_run_at"] = None
        return cls.model_validate(data)


class ScheduleResponse(BaseModel):
    data: ScheduleView


class ScheduleListResponse(BaseModel):
    data: list[ScheduleView]
    pagination: Pagination

"""A schedule: who owns it, when it is due, and the task it creates each time."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.clock import new_id, utcnow
from shared.tasks.fields import TaskFields

# The sparse DueIndex holds active schedules only: pausing removes the attribute.
DUE_ACTIVE = "active"


class TaskTemplate(TaskFields):
    """The fields of POST /v1/tasks that every run of a schedule submits."""

    model_config = ConfigDict(extra="ignore")

    repo: str

    def task_fields(self) -> dict[str, Any]:
        """The template as keyword arguments of Task.new (unset fields left to the task's defaults)."""
        return self.model_dump(exclude_none=True)


class Schedule(BaseModel):
    """A row of the Schedules table."""

    model_config = ConfigDict(extra="ignore")

    schedule_id: str = Field(default_factory=new_id)
    user_id: str
    name: str
    cron: str | None = None
    rate: str | None = None
    timezone: str = "UTC"
    overlap: Literal["skip", "allow"] = "skip"
    paused: bool = False
    paused_reason: str | None = None
    template: TaskTemplate
    next_run_at: str | None = None
    last_run_at: str | None = None
    last_task_id: str | None = None
    runs: int = 0
    skipped_runs: int = 0
    last_skipped_at: str | None = None
    created_at: str = Field(default_factory=utcnow)
    updated_at: str = Field(default_factory=utcnow)
    version: int = 0  # every write is conditional on the version it read

    def to_record(self) -> dict[str, Any]:
        """The item written to DynamoDB, with the sparse due-index key while the schedule is active."""
        data = self.model_dump(mode="json", exclude_none=True)
        if not self.paused and self.next_run_at:
            data["due"] = DUE_ACTIVE
        return data

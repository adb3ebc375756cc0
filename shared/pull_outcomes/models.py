"""A row of the PullOutcomes table: who opened a bgagent pull request (how it ended comes later)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.clock import utcnow


class PullOpener(BaseModel):
    """The user and task that opened pull request `pr_number` of `repo`."""

    model_config = ConfigDict(extra="ignore")

    repo: str
    pr_number: int
    user_id: str
    task_id: str
    opened_at: str = Field(default_factory=utcnow)

"""Hydrator settings."""

from pydantic import Field

from shared.settings import GitHubSettings, WorkerSettings
from shared.tasks.limits import TaskDefaults


class HydratorSettings(WorkerSettings, GitHubSettings, TaskDefaults):
    context_token_budget: int = Field(100_000, ge=1000)
    memory_token_budget: int = Field(4_000, ge=0)
    system_prompt: str | None = None

"""Hydrator settings."""

from pydantic import Field

from shared.llm.settings import ModelSettings
from shared.settings import GitHubSettings, WorkerSettings


class HydratorSettings(WorkerSettings, GitHubSettings, ModelSettings):
    default_max_turns: int = Field(100, ge=1, le=500)
    default_max_budget_usd: float | None = Field(None, ge=0.01, le=100)
    context_token_budget: int = Field(100_000, ge=1000)
    memory_token_budget: int = Field(4_000, ge=0)
    system_prompt: str | None = None

"""Hydrator settings."""

from pydantic import Field

from shared.settings import GitHubSettings, WorkerSettings


class HydratorSettings(WorkerSettings, GitHubSettings):
    default_model_id: str = "claude-sonnet-4-5"
    default_max_turns: int = Field(100, ge=1, le=500)
    default_max_budget_usd: float | None = Field(None, ge=0.01, le=100)
    context_token_budget: int = Field(100_000, ge=1000)
    memory_token_budget: int = Field(4_000, ge=0)
    system_prompt: str | None = None

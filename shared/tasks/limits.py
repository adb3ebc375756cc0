"""The model and limits a task runs with: its own, else its repository's, else the platform's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.llm.prices import ModelPrice
from shared.llm.settings import ModelSettings
from shared.repos.models import RepoConfig
from shared.tasks.fields import DEFAULT_MAX_TURNS, MaxBudgetUsd, MaxTurns


class TaskDefaults(ModelSettings):
    """The platform's model, prices and limits for tasks that, like their repository, set none."""

    default_max_turns: MaxTurns = DEFAULT_MAX_TURNS
    default_max_budget_usd: MaxBudgetUsd | None = None


class AsksFor(Protocol):
    """What a task (or its request) may set for itself."""

    @property
    def model_id(self) -> str | None: ...
    @property
    def max_turns(self) -> int | None: ...
    @property
    def max_budget_usd(self) -> float | None: ...


@dataclass(frozen=True)
class Effective:
    model_id: str
    max_turns: int
    max_budget_usd: float | None
    model_prices: dict[str, ModelPrice]  # the platform's prices, the repository's over them


def effective(task: AsksFor, repo: RepoConfig, platform: TaskDefaults) -> Effective:
    """Task > repository > platform, field by field."""
    return Effective(
        model_id=task.model_id or repo.model_id or platform.default_model_id,
        max_turns=task.max_turns or repo.max_turns or platform.default_max_turns,
        max_budget_usd=task.max_budget_usd or repo.max_budget_usd or platform.default_max_budget_usd,
        model_prices={**platform.model_prices, **(repo.model_prices or {})})

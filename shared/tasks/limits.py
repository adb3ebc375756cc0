"""The model and limits a task runs with: its own, else its repository's, else the platform's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from shared.engines import DEFAULT_ENGINE, INSTALL_CLAUDE_CODE, Engine, unavailable
from shared.llm.prices import ModelPrice
from shared.llm.settings import ModelSettings
from shared.repos.models import RepoConfig
from shared.tasks.fields import DEFAULT_MAX_TURNS, MaxBudgetUsd, MaxTurns, TaskEngine

_BASE_ENGINES = ("native", "oracle")  # part of every install: only claude-code is an extra


class TaskDefaults(ModelSettings):
    """The platform's model, engine, prices and limits for tasks that, like their repository, set none."""

    default_max_turns: MaxTurns = DEFAULT_MAX_TURNS
    default_max_budget_usd: MaxBudgetUsd | None = None
    # Installing claude-code never changes the default: only an operator does (BGAGENT_DEFAULT_ENGINE).
    default_engine: TaskEngine = DEFAULT_ENGINE
    # The engines the agents' compute has (BGAGENT_AGENT_ENGINES, JSON list). None: the ones this process's own
    # Python has, true of the embedded stack, whose agents run in its Python; an ECS deployment names the agent
    # image's engines (Pulumi sets them), since the gateway's image need not carry claude-code.
    agent_engines: list[Engine] | None = None

    def engine_unavailable(self, engine: str) -> str | None:
        """Why tasks cannot run `engine` on this deployment (with the install command), or None."""
        return engine_unavailable(engine, self.agent_engines)


def engine_unavailable(engine: str, agent_engines: list[Engine] | None) -> str | None:
    """Why agents with `agent_engines` (None: this Python's) cannot run `engine`, with the remedy; or None."""
    if agent_engines is None:
        return unavailable(engine)
    if engine in agent_engines or engine in _BASE_ENGINES:
        return None
    return (f"the {engine} engine is not installed on this deployment (its agent image has "
            f"{', '.join(agent_engines) or 'none'}): build the image with {INSTALL_CLAUDE_CODE} "
            "and list the engine in BGAGENT_AGENT_ENGINES")


def engine_notices(default_engine: str, repo_engines: Mapping[str, str],
                   agent_engines: list[Engine] | None) -> list[str]:
    """One line for the default engine and for each repository's engine that the deployment lacks."""
    chosen = [("the default engine", default_engine), *((f"repository {r}", e) for r, e in repo_engines.items())]
    return [f"{where}: {why}" for where, engine in chosen if (why := engine_unavailable(engine, agent_engines))]


class AsksFor(Protocol):
    """What a task (or its request) may set for itself."""

    @property
    def model_id(self) -> str | None: ...
    @property
    def max_turns(self) -> int | None: ...
    @property
    def max_budget_usd(self) -> float | None: ...
    @property
    def engine(self) -> Engine | None: ...


@dataclass(frozen=True)
class Effective:
    model_id: str
    max_turns: int
    max_budget_usd: float | None
    model_prices: dict[str, ModelPrice]  # the platform's prices, the repository's over them
    engine: Engine


def effective(task: AsksFor, repo: RepoConfig, platform: TaskDefaults) -> Effective:
    """Task > repository > platform, field by field."""
    return Effective(
        model_id=task.model_id or repo.model_id or platform.default_model_id,
        max_turns=task.max_turns or repo.max_turns or platform.default_max_turns,
        max_budget_usd=task.max_budget_usd or repo.max_budget_usd or platform.default_max_budget_usd,
        model_prices={**platform.model_prices, **(repo.model_prices or {})},
        engine=task.engine or repo.engine or platform.default_engine)

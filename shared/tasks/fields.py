"""Each field a caller chooses for a task, with its limits, declared once (API, schedules, repos, settings, CLI)."""

from __future__ import annotations

from typing import Annotated, Any

import annotated_types
from pydantic import BaseModel, BeforeValidator, Field, WithJsonSchema

from shared.engines import TASK_ENGINES, Engine
from shared.tasks.models import TaskType

DEFAULT_MAX_TURNS = 100

MaxTurns = Annotated[int, Field(ge=1, le=500)]
MaxBudgetUsd = Annotated[float, Field(ge=0.01, le=100)]
TaskDescription = Annotated[str, Field(min_length=1, max_length=10_000)]
IssueNumber = Annotated[int, Field(ge=1)]
PrNumber = Annotated[int, Field(ge=1)]
ModelId = Annotated[str, Field(min_length=1, max_length=200)]
EndpointName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]  # a registered model endpoint


def _task_engine(value: object) -> object:
    # Checked before the Literal so that `oracle` (evaluation only) is refused like any unknown name.
    if value not in TASK_ENGINES:
        raise ValueError(f"engine must be one of: {', '.join(TASK_ENGINES)}")
    return value


# The engine an ordinary task, schedule, repository or platform may choose (`oracle` is for evaluation runs).
TaskEngine = Annotated[Engine, BeforeValidator(_task_engine),
                       WithJsonSchema({"type": "string", "enum": list(TASK_ENGINES)})]


def bounds(field: Any) -> tuple[Any, Any]:
    """The lowest and highest value (of a text: length) a field above allows; None where it sets none."""
    low = high = None
    for meta in field.__metadata__:
        for constraint in getattr(meta, "metadata", [meta]):
            if isinstance(constraint, (annotated_types.Ge, annotated_types.MinLen)):
                low = getattr(constraint, "ge", None) or getattr(constraint, "min_length", None)
            elif isinstance(constraint, (annotated_types.Le, annotated_types.MaxLen)):
                high = getattr(constraint, "le", None) or getattr(constraint, "max_length", None)
    return low, high


class TaskFields(BaseModel):
    """What a caller asks of a task: the body of POST /v1/tasks, a schedule's template."""

    repo: str | None = None  # OWNER/NAME: required where a task is made, optional where one is changed
    issue_number: IssueNumber | None = None
    task_description: TaskDescription | None = None
    task_type: TaskType | None = Field(None, description="new_task (default), pr_iteration or pr_review; "
                                       "pr_number alone means pr_iteration")
    pr_number: PrNumber | None = Field(None, description="the pull request a pr_iteration or pr_review works on")
    max_turns: MaxTurns | None = Field(None, description=f"default: the repo's setting, else {DEFAULT_MAX_TURNS}")
    max_budget_usd: MaxBudgetUsd | None = None
    model_id: ModelId | None = None
    engine: TaskEngine | None = Field(None, description="native or claude-code; default: the repo's engine, "
                                      "else the platform's (BGAGENT_DEFAULT_ENGINE, native unless set)")
    model_endpoint: EndpointName | None = Field(None, description="a registered model endpoint the model calls go "
                                                "to (see GET /v1/model-endpoints)")

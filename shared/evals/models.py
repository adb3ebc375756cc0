"""An evaluation run, its cases as the driver reads them, and one counted attempt."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.clock import new_id, utcnow
from shared.engines import DEFAULT_ENGINE, Engine
from shared.tasks.fields import EndpointName, MaxBudgetUsd, MaxTurns, ModelId

# The sparse RunningIndex holds running runs only: the reconciler repairs them on every tick.
RUNNING = "running"
RunStatus = Literal["running", "completed", "cancelled"]
Grade = Literal["passed", "failed", "grader_error"]

Attempts = Annotated[int, Field(ge=1, le=10)]
Concurrency = Annotated[int, Field(ge=1, le=64)]
RatePerSecond = Annotated[float, Field(ge=0.01, le=50)]
MaxCostUsd = Annotated[float, Field(gt=0, le=100_000)]
# Classifications that are not a reward: listed, never in pass@k.
NOT_SCORED = frozenset({"GRADER_ERROR", "CANCELLED"})


class RunSettings(BaseModel):
    """What every attempt of a run is given, chosen at creation."""

    model_config = ConfigDict(extra="ignore")

    engine: Engine = DEFAULT_ENGINE
    model_id: ModelId | None = None
    model_endpoint: EndpointName | None = None
    attempts: Attempts = 1
    concurrency: Concurrency = 4
    rate_per_s: RatePerSecond | None = None
    max_cost_usd: MaxCostUsd | None = None
    max_turns: MaxTurns | None = None
    max_budget_usd: MaxBudgetUsd | None = None


class EvalRun(BaseModel):
    """A row of the Evals table: the run, its settings and its progress, rewritten whole under `version`."""

    model_config = ConfigDict(extra="ignore")

    eval_id: str = Field(default_factory=new_id)
    user_id: str
    name: str
    status: RunStatus = "running"
    settings: RunSettings
    case_count: int
    # Attempt slots are numbered case by case: slot s is attempt s % k + 1 of case s // k.
    next_slot: int = 0
    # Claimed and not yet counted: slot (as text) → the id its task has (or will have: chosen with the claim).
    in_flight: dict[str, str] = Field(default_factory=dict)
    counted: int = 0
    cost_usd: float = 0.0
    next_start_at: str | None = None  # with rate_per_s: no attempt starts before this
    stopped_reason: str | None = None  # "max_cost_usd" when spending stopped the run early
    created_at: str = Field(default_factory=utcnow)
    updated_at: str = Field(default_factory=utcnow)
    completed_at: str | None = None
    version: int = 0

    @property
    def total_slots(self) -> int:
        return self.case_count * self.settings.attempts

    def slot(self, case_index: int, attempt: int) -> int:
        return case_index * self.settings.attempts + attempt - 1

    def place(self, slot: int) -> tuple[int, int]:
        """(case index, attempt number) of a slot."""
        return slot // self.settings.attempts, slot % self.settings.attempts + 1

    @property
    def budget_spent(self) -> bool:
        limit = self.settings.max_cost_usd
        return limit is not None and self.cost_usd >= limit

    def to_record(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_none=True)
        if self.status == RUNNING:
            data["running"] = RUNNING
        return data


class CaseRow(BaseModel):
    """What the driver needs of a case to start its attempts (the hidden tests stay in the artifacts bucket)."""

    model_config = ConfigDict(extra="ignore")

    index: int
    case_id: str
    repo: str
    task: str
    tags: list[str] = []


class AttemptRecord(BaseModel):
    """One counted attempt: written once, when its task is terminal."""

    model_config = ConfigDict(extra="ignore")

    case_index: int
    case_id: str
    attempt: int
    task_id: str
    status: str  # the task's terminal status
    classification: str
    grade: Grade | None = None
    reward: int | None = None  # 0 or 1; None for GRADER_ERROR and CANCELLED
    cost_usd: float = 0.0
    turns: int | None = None
    duration_s: float | None = None
    tests_passed: int | None = None
    tests_failed: int | None = None
    grade_error: str | None = None
    diff_key: str | None = None
    counted_at: str = Field(default_factory=utcnow)

    @property
    def scored(self) -> bool:
        return self.classification not in NOT_SCORED

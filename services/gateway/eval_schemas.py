"""Request and response bodies of evaluation runs (docs/api.md, "Evaluation runs")."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from services.gateway.schemas import Pagination
from shared.engines import Engine
from shared.evals.cases import EvalCase
from shared.evals.models import (
    AttemptRecord,
    Attempts,
    CaseRow,
    Concurrency,
    EvalRun,
    MaxCostUsd,
    RatePerSecond,
)
from shared.repos.models import REPO_PATTERN
from shared.tasks.fields import EndpointName, MaxBudgetUsd, MaxTurns, ModelId

MAX_CASES = 5_000


def _case_schema() -> dict[str, Any]:
    """A case as the document shows it (the route checks each one itself, to name the case it refuses)."""
    schema = EvalCase.model_json_schema()
    schema["properties"]["repo"]["pattern"] = REPO_PATTERN.pattern
    schema["properties"]["base"]["pattern"] = "^[0-9a-f]{7,40}$"
    return schema


class CreateEvalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    # Each case is checked by the route, so a refusal names the case by index and id (docs/api.md).
    cases: list[dict[str, Any]] = Field(..., min_length=1, max_length=MAX_CASES, description="the dataset",
                                        json_schema_extra={"items": _case_schema()})
    engine: Engine | None = Field(None, description="native, claude-code or oracle; default: the platform's")
    model_id: ModelId | None = None
    model_endpoint: EndpointName | None = None
    attempts: Attempts = Field(1, description="k: attempts per case")
    concurrency: Concurrency = Field(4, description="attempts of this run running at once")
    rate_per_s: RatePerSecond | None = Field(None, description="at most this many attempts started per second")
    max_cost_usd: MaxCostUsd | None = Field(None, description="no attempt starts once counted attempts cost this")
    max_turns: MaxTurns | None = None
    max_budget_usd: MaxBudgetUsd | None = Field(None, description="per attempt")


class EvalView(BaseModel):
    """A run as the API shows it to its owner."""

    eval_id: str
    name: str
    status: str
    case_count: int
    attempts: int
    engine: str
    model_id: str | None = None
    model_endpoint: str | None = None
    concurrency: int
    rate_per_s: float | None = None
    max_cost_usd: float | None = None
    max_turns: int | None = None
    max_budget_usd: float | None = None
    submitted: int = Field(..., description="attempts started so far")
    counted: int = Field(..., description="attempts finished and counted")
    cost_usd: float = Field(..., description="cost of the counted attempts")
    stopped_reason: str | None = Field(None, description='"max_cost_usd" when spending stopped the run early')
    created_at: str
    updated_at: str
    completed_at: str | None = None

    @classmethod
    def of(cls, run: EvalRun) -> "EvalView":
        return cls(**run.settings.model_dump(exclude={"attempts"}), attempts=run.settings.attempts,
                   **run.model_dump(include={"eval_id", "name", "status", "case_count", "counted", "cost_usd",
                                             "stopped_reason", "created_at", "updated_at", "completed_at"}),
                   submitted=run.next_slot)


class AttemptView(BaseModel):
    attempt: int
    task_id: str | None = None
    status: str
    reward: int | None = None
    grade: str | None = None
    classification: str | None = None
    cost_usd: float | None = None
    turns: int | None = None
    duration_s: float | None = None
    tests_passed: int | None = None
    tests_failed: int | None = None
    diff_key: str | None = None
    grade_error: str | None = None

    @classmethod
    def of(cls, record: AttemptRecord) -> "AttemptView":
        return cls.model_validate(record.model_dump())


class CaseView(BaseModel):
    case_id: str
    repo: str
    tags: list[str] = []
    attempts: list[AttemptView]

    @classmethod
    def of(cls, case: CaseRow, attempts: list[AttemptView]) -> "CaseView":
        return cls(case_id=case.case_id, repo=case.repo, tags=case.tags, attempts=attempts)


class Results(BaseModel):
    pass_at_1: float | None = Field(None, description="mean over cases of passed/counted attempts")
    pass_at_k: float | None = Field(None, description="mean over cases of 1 - C(n-c, k)/C(n, k)")
    k: int
    cases_total: int
    cases_counted: int
    solved: int = Field(..., description="cases with at least one passing attempt")
    attempts_counted: int
    attempts_graded: int
    cost_usd: float
    cost_per_solved_usd: float | None = None
    duration_p50_s: float | None = None
    duration_p95_s: float | None = None
    by_classification: dict[str, int]


class EvalDetail(EvalView):
    results: Results
    cases: list[CaseView] = Field(..., description="one page of the run's cases, in order (see pagination)")


class EvalResponse(BaseModel):
    data: EvalView


class EvalDetailResponse(BaseModel):
    data: EvalDetail
    pagination: Pagination


class EvalListResponse(BaseModel):
    data: list[EvalView]
    pagination: Pagination

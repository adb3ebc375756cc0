"""Evaluation runs as the panel shows them: the adapter it reads them through, and the figures of a page."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Protocol

from shared.evals.display import MARKS, attempt_kind, outcomes, total
from shared.evals.stats import Comparison, RunResults, compare


class EvalViews(Protocol):
    """The panel's reads of a user's runs: exactly what GET /v1/evals and GET /v1/evals/{eval_id} answer."""

    async def list_runs(self, user_id: str, *, limit: int,
                        next_token: str | None) -> tuple[list[dict[str, Any]], str | None]: ...

    async def get_run(self, user_id: str, eval_id: str) -> dict[str, Any] | None:
        """The run with its results and every case; None when it is missing or another user's."""


@dataclass(frozen=True)
class OutcomeBar:
    """One row of the outcomes chart: a classification and how many attempts ended so."""

    label: str
    count: int
    y: int
    width: int
    kind: str  # a CSS hook: passed, failed, other


@dataclass(frozen=True)
class AttemptCell:
    attempt: int
    task_id: str | None
    mark: str   # ✓ ✗ ! …
    kind: str   # passed, failed, grader-error, pending
    title: str


@dataclass(frozen=True)
class CaseRow:
    case_id: str
    attempts: list[AttemptCell]
    outcomes: str
    cost_usd: float | None
    turns: int | None
    duration_s: float | None


CHART_WIDTH, BAR_HEIGHT, LABEL_WIDTH = 420, 18, 150
_KIND = {"PASSED": "passed", "FAILED_TESTS": "failed"}


def outcome_chart(by_classification: dict[str, int]) -> tuple[list[OutcomeBar], int]:
    """Horizontal bars of attempts by classification, scaled to the largest; and the chart's height."""
    rows = sorted(by_classification.items(), key=lambda kv: (kv[0] != "PASSED", -kv[1], kv[0]))
    top = max((count for _, count in rows), default=0) or 1
    room = CHART_WIDTH - LABEL_WIDTH - 40
    bars = [OutcomeBar(label, count, i * (BAR_HEIGHT + 4), max(1, round(count / top * room)),
                       _KIND.get(label, "other")) for i, (label, count) in enumerate(rows)]
    return bars, max(BAR_HEIGHT, len(bars) * (BAR_HEIGHT + 4))


def _cell(a: dict[str, Any]) -> AttemptCell:
    kind = attempt_kind(a)
    title = f"attempt {a.get('attempt')}: {a.get('classification') or a.get('status') or 'running'}"
    return AttemptCell(int(a.get("attempt") or 0), a.get("task_id"), MARKS[kind], kind, title)


def case_rows(cases: list[dict[str, Any]]) -> list[CaseRow]:
    rows = []
    for c in cases:
        attempts = sorted(c.get("attempts") or [], key=lambda a: a.get("attempt") or 0)
        turns = total(attempts, "turns")
        rows.append(CaseRow(str(c["case_id"]), [_cell(a) for a in attempts], ", ".join(outcomes(attempts)),
                            total(attempts, "cost_usd"), None if turns is None else int(turns),
                            total(attempts, "duration_s")))
    return rows


def loose(view: dict[str, Any]) -> defaultdict[str, Any]:
    """A run view whose absent fields read as None in a template (a listing carries fewer than a read)."""
    return defaultdict(lambda: None, {**view, "results": defaultdict(lambda: None, view.get("results") or {})})


def comparison(a: dict[str, Any], b: dict[str, Any]) -> Comparison:
    """Run B against run A, as `bgagent eval compare A B` computes it."""
    return compare(RunResults.of_view(a), RunResults.of_view(b))

"""A run's results from its counted attempts: pass@1, the unbiased pass@k, cost per solved, durations."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any, Iterable

from shared.evals.models import AttemptRecord


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased estimator 1 - C(n-c, k) / C(n, k) for one case; with n < k, k is taken as n."""
    if n <= 0:
        return 0.0
    k = min(k, n)
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def nearest_rank(values: list[float], q: float) -> float | None:
    """The q-th percentile by nearest rank (a value that was observed)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def results(attempts: Iterable[AttemptRecord], *, k: int, case_count: int) -> dict[str, Any]:
    """The results block of GET /v1/evals/{id}: over counted attempts; grader errors and cancellations aside."""
    records = list(attempts)
    per_case: dict[int, list[int]] = defaultdict(list)
    for a in records:
        if a.scored and a.reward is not None:
            per_case[a.case_index].append(a.reward)
    cases = [rewards for rewards in per_case.values() if rewards]
    solved = sum(1 for rewards in cases if any(rewards))
    cost = round(sum(a.cost_usd for a in records), 6)
    durations = [a.duration_s for a in records if a.duration_s is not None]
    p95 = nearest_rank(durations, 0.95)
    return {
        "pass_at_1": _mean(sum(r) / len(r) for r in cases),
        "pass_at_k": _mean(pass_at_k(len(r), sum(r), k) for r in cases),
        "k": k,
        "cases_total": case_count,
        "cases_counted": len(cases),
        "solved": solved,
        "attempts_counted": len(records),
        "attempts_graded": sum(1 for a in records if a.scored and a.grade is not None),
        "cost_usd": cost,
        "cost_per_solved_usd": round(cost / solved, 6) if solved else None,
        "duration_p50_s": nearest_rank(durations, 0.5),
        "duration_p95_s": p95,
        "by_classification": dict(sorted(Counter(a.classification for a in records).items())),
    }


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return round(sum(items) / len(items), 6) if items else None

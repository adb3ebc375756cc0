"""A run's results: pass@k against the estimator's definition, grader errors aside, cost per solved, percentiles."""

from __future__ import annotations

import itertools

import pytest

from shared.evals.models import AttemptRecord
from shared.evals.results import pass_at_k, results


def brute_pass_at_k(rewards: list[int], k: int) -> float:
    """The probability that k attempts drawn without replacement from the n hold at least one pass."""
    draws = list(itertools.combinations(rewards, k))
    return sum(1 for d in draws if any(d)) / len(draws)


def attempt(case: int, n: int, classification: str, cost: float = 0.1, duration: float = 10.0) -> AttemptRecord:
    scored = classification not in ("GRADER_ERROR", "CANCELLED")
    return AttemptRecord(case_index=case, case_id=f"c{case}", attempt=n, task_id=f"t{case}-{n}", status="COMPLETED",
                         classification=classification, reward=(classification == "PASSED") if scored else None,
                         grade={"PASSED": "passed", "FAILED_TESTS": "failed"}.get(classification),
                         cost_usd=cost, duration_s=duration)


@pytest.mark.parametrize("rewards, k", [([1, 0, 0], 2), ([0, 0, 0, 1, 1], 3), ([1, 1, 1], 3), ([0, 0], 1),
                                        ([1, 0, 0, 0, 0, 0], 4)])
def test_pass_at_k_is_the_unbiased_estimator(rewards, k):
    assert pass_at_k(len(rewards), sum(rewards), k) == pytest.approx(brute_pass_at_k(rewards, k))


def test_results_over_hand_made_attempts():
    attempts = [attempt(0, 1, "PASSED", duration=5), attempt(0, 2, "FAILED_TESTS", duration=20),
                attempt(0, 3, "FAILED_TESTS", duration=30),
                attempt(1, 1, "BUDGET_EXCEEDED", cost=1.0, duration=40), attempt(1, 2, "FAILED_TESTS", duration=50),
                attempt(1, 3, "FAILED_TESTS", duration=60),
                # The grader failed: listed and paid for, but not a reward 0.
                attempt(2, 1, "PASSED", duration=70), attempt(2, 2, "GRADER_ERROR", duration=80),
                attempt(2, 3, "PASSED", duration=90)]
    r = results(attempts, k=3, case_count=4)
    assert r["pass_at_1"] == pytest.approx((1 / 3 + 0 + 2 / 2) / 3, abs=1e-6)
    expected_k = (brute_pass_at_k([1, 0, 0], 3) + 0 + brute_pass_at_k([1, 1], 2)) / 3
    assert r["pass_at_k"] == pytest.approx(expected_k, abs=1e-6)
    assert r["solved"] == 2 and r["cases_counted"] == 3 and r["cases_total"] == 4
    assert r["cost_usd"] == pytest.approx(1.8) and r["cost_per_solved_usd"] == pytest.approx(0.9)
    assert r["duration_p50_s"] == 50 and r["duration_p95_s"] == 90
    assert r["by_classification"] == {"BUDGET_EXCEEDED": 1, "FAILED_TESTS": 4, "GRADER_ERROR": 1, "PASSED": 3}
    assert r["attempts_counted"] == 9 and r["attempts_graded"] == 7


def test_no_attempts_means_no_rates():
    r = results([], k=1, case_count=2)
    assert r["pass_at_1"] is None and r["solved"] == 0 and r["cost_per_solved_usd"] is None

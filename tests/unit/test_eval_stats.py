"""Comparing two runs on hand-made results: flips, the bootstrap interval, McNemar, and the regression gate."""

from __future__ import annotations

from shared.evals.stats import RunResults, bootstrap_interval, compare, gate, mcnemar_exact


def run(name: str, rewards: dict[str, tuple[int, ...]], cost: float = 1.0) -> RunResults:
    return RunResults(eval_id=name, name=name, rewards=rewards, cost_usd=cost,
                      solved=sum(1 for r in rewards.values() if any(r)))


def test_flips_are_the_cases_solved_in_one_run_only():
    a = run("a", {"c1": (1,), "c2": (1,), "c3": (0,), "c4": (0,), "c5": (1,)})
    b = run("b", {"c1": (0,), "c2": (1,), "c3": (1,), "c4": (0,), "c6": (1,)})
    c = compare(a, b)
    assert c.only_a == ("c1",) and c.only_b == ("c3",)
    assert c.paired == 4 and c.unpaired == ("c5", "c6")
    assert c.pass_at_1_a == 0.5 and c.pass_at_1_b == 0.5 and c.delta == 0.0


def test_a_case_solved_by_any_attempt_is_solved_and_pass_at_1_is_the_share_of_passing_attempts():
    a = run("a", {"c1": (1, 0, 0), "c2": (0, 0, 0)})
    b = run("b", {"c1": (0, 0, 0), "c2": (1, 1, 0)})
    c = compare(a, b)
    assert c.only_a == ("c1",) and c.only_b == ("c2",)
    assert abs(c.pass_at_1_a - 1 / 6) < 1e-9 and abs(c.pass_at_1_b - 1 / 3) < 1e-9


def test_mcnemar_exact_p_values():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(1, 1) == 1.0
    assert mcnemar_exact(8, 0) == 2 / 256
    assert mcnemar_exact(6, 1) == mcnemar_exact(1, 6) == 2 * (1 + 7) / 128


def test_bootstrap_interval_is_fixed_by_its_seed_and_brackets_the_mean():
    diffs = [-1.0] * 10 + [0.0] * 10
    low, high = bootstrap_interval(diffs)
    assert bootstrap_interval(diffs) == (low, high)
    assert -0.75 < low < -0.6 and -0.4 < high < -0.25
    assert bootstrap_interval([0.25] * 7) == (0.25, 0.25)
    assert bootstrap_interval([]) == (0.0, 0.0)


def test_a_large_significant_drop_fails_the_gate_and_says_why():
    a = run("a", {f"c{i}": (1,) for i in range(20)})
    b = run("b", {f"c{i}": (int(i >= 10),) for i in range(20)})
    c = compare(a, b)
    assert c.delta == -0.5 and c.interval[1] < -0.05 and c.mcnemar_p < 0.01
    verdict = gate(c, 5)
    assert not verdict.passed
    assert "worse than A by more than 5 points" in verdict.reason and "-50.0 points" in verdict.reason


def test_a_drop_within_the_allowance_or_an_improvement_passes():
    a = run("a", {f"c{i}": (1,) for i in range(20)})
    b = run("b", {f"c{i}": (int(i >= 10),) for i in range(20)})
    assert gate(compare(a, b), 60).passed
    assert gate(compare(b, a), 0).passed


def test_a_drop_larger_than_the_allowance_that_is_not_significant_passes():
    a = run("a", {f"c{i}": (int(i not in (0, 1)),) for i in range(20)})
    b = run("b", {f"c{i}": (int(i not in (2, 3, 4)),) for i in range(20)})
    c = compare(a, b)
    assert abs(c.delta + 0.05) < 1e-9 and c.mcnemar_p == 1.0 and c.interval[0] < -0.01 < c.interval[1]
    verdict = gate(c, 1)
    assert verdict.passed and "not significantly" in verdict.reason


def test_mcnemar_alone_can_fail_the_gate_when_the_interval_reaches_above_the_allowance():
    # Eight cases lose their one passing attempt out of three: -1/3 each, twelve cases unchanged.
    a = run("a", {f"c{i}": (1, 0, 0) if i < 8 else (1, 1, 1) for i in range(20)})
    b = run("b", {f"c{i}": (0, 0, 0) if i < 8 else (1, 1, 1) for i in range(20)})
    c = compare(a, b)
    assert c.delta < -0.1 and c.interval[1] > -0.1 and c.mcnemar_p < 0.05
    verdict = gate(c, 10)
    assert not verdict.passed and "McNemar" in verdict.reason


def test_two_runs_with_no_case_graded_in_both_fail_the_gate():
    verdict = gate(compare(run("a", {"c1": (1,)}), run("b", {"c2": (1,)})), 5)
    assert not verdict.passed and "nothing to compare" in verdict.reason


def test_results_from_the_api_leave_out_grader_errors_and_unfinished_attempts():
    view = {"eval_id": "ev1", "name": "nightly", "results": {"cost_usd": 3.0},
            "cases": [{"case_id": "c1", "attempts": [{"attempt": 1, "reward": 1}, {"attempt": 2, "reward": 0},
                                                     {"attempt": 3, "reward": 0, "grade": "grader_error"},
                                                     {"attempt": 4, "reward": 0, "classification": "CANCELLED"}]},
                      {"case_id": "c2", "attempts": [{"attempt": 1, "reward": None, "status": "RUNNING"}]},
                      {"case_id": "c3", "attempts": [{"attempt": 1, "reward": 0}]}]}
    r = RunResults.of_view(view)
    assert r.rewards == {"c1": (1, 0), "c2": (), "c3": (0,)}
    assert r.solved == 1 and r.cost_per_solved_usd == 3.0 and r.name == "nightly"

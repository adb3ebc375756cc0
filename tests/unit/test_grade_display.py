"""`bgagent status` of an evaluation attempt shows its grade and where its diff is."""

from __future__ import annotations

from cli.render import task_detail

BASE = {"task_id": "01T", "status": "COMPLETED", "repo": "starter/textkit", "branch_name": "bgagent/01T/x"}


def test_a_graded_attempt_shows_its_reward_counts_and_diff() -> None:
    text = task_detail({**BASE, "eval_id": "01E", "case_id": "slugify", "attempt": 2, "reward": 0, "grade": "failed",
                        "tests_passed": 1, "tests_failed": 2, "grade_output_tail": "FAILED (failures=2)",
                        "diff_key": "diffs/01T.patch"})
    assert "01E · case slugify · #2" in text and "failed[/] · reward 0 · 1 passed, 2 failed" in text
    assert "FAILED (failures=2)" in text and "diffs/01T.patch" in text


def test_an_ungraded_attempt_says_so_and_an_ordinary_task_shows_no_grade() -> None:
    assert "not graded · reward 0" in task_detail({**BASE, "eval_id": "01E", "case_id": "c", "attempt": 1,
                                                   "reward": 0})
    assert "grade" not in task_detail(BASE) and "diff" not in task_detail(BASE)

"""What a finished attempt's task says about it: its classification, reward and figures, decided once."""

from __future__ import annotations

from shared.clock import parse_time
from shared.evals.models import AttemptRecord
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S

_GRADES = {"passed": "PASSED", "failed": "FAILED_TESTS", "grader_error": "GRADER_ERROR"}


def classify_attempt(task: Task) -> str:
    """PASSED / FAILED_TESTS / GRADER_ERROR when graded; otherwise why the attempt ended without a grade."""
    if task.status == S.CANCELLED:
        return "CANCELLED"
    if task.grade is not None:
        return _GRADES[task.grade]
    if task.status == S.COMPLETED:
        return "GRADER_ERROR"  # finished without a grade: the grader never reported
    if task.status == S.TIMED_OUT:
        return task.error_code or "TIMED_OUT"
    return task.error_code or "FAILED"


def duration_s(task: Task) -> float | None:
    if not task.completed_at:
        return None
    return round((parse_time(task.completed_at) - parse_time(task.created_at)).total_seconds(), 3)


def attempt_record(task: Task, case_index: int) -> AttemptRecord:
    """The attempt as counted from its terminal task."""
    classification = classify_attempt(task)
    scored = classification not in ("GRADER_ERROR", "CANCELLED")
    reward = (1 if classification == "PASSED" else 0) if scored else None
    return AttemptRecord(
        case_index=case_index, case_id=task.case_id or "", attempt=task.attempt or 1, task_id=task.task_id,
        status=task.status.value, classification=classification, grade=task.grade, reward=reward,
        cost_usd=task.cost_usd or 0.0, turns=task.turns, duration_s=duration_s(task),
        tests_passed=task.tests_passed, tests_failed=task.tests_failed, grade_error=task.grade_error,
        diff_key=task.diff_key)

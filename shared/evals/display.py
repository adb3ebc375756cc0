"""How an attempt and a case read in a run's table, the same in the CLI and the panel."""

from __future__ import annotations

from typing import Any, Literal, Mapping, Sequence

AttemptKind = Literal["passed", "failed", "grader-error", "pending"]
MARKS: dict[AttemptKind, str] = {"passed": "✓", "failed": "✗", "grader-error": "!", "pending": "…"}


def attempt_kind(attempt: Mapping[str, Any]) -> AttemptKind:
    """Passed, failed, a grader error (not counted), or not graded yet."""
    if attempt.get("grade") == "grader_error" or attempt.get("classification") == "GRADER_ERROR":
        return "grader-error"
    reward = attempt.get("reward")
    return "passed" if reward == 1 else "failed" if reward == 0 else "pending"


def total(attempts: Sequence[Mapping[str, Any]], key: str) -> float | None:
    """The sum of a figure over a case's attempts (cost, turns, seconds); None when none has it."""
    values = [a[key] for a in attempts if isinstance(a.get(key), (int, float))]
    return sum(values) if values else None


def outcomes(attempts: Sequence[Mapping[str, Any]]) -> list[str]:
    """How the attempts that did not pass ended (FAILED_TESTS, BUDGET_EXCEEDED …), or their status while running."""
    return sorted({a.get("classification") or a.get("status") or "" for a in attempts if a.get("reward") != 1}
                  - {"", "PASSED", "COMPLETED"})

"""The outcome matrix: what the agent said × what the repository shows."""

from __future__ import annotations

from dataclasses import dataclass

from shared.tasks.models import Task
from shared.tasks.states import TaskStatus


@dataclass(frozen=True)
class Evidence:
    """What the git host shows for the task's branch (None where it could not be read)."""

    pr_url: str | None
    pr_number: int | None
    commits_ahead: int | None


@dataclass(frozen=True)
class Outcome:
    status: TaskStatus
    error_code: str | None = None
    error_message: str | None = None
    note: str = ""


_AGENT_ERROR_CODES = {
    "MAX_TURNS_REACHED", "BUDGET_EXCEEDED", "MODEL_ERROR", "AGENT_ERROR", "PUSH_REJECTED",
    "MODEL_UNAVAILABLE",
    "SANDBOX_UNAVAILABLE",
    "MODEL_AUTH",
    "NOT_APPROVED",
    "GOLD_PATCH_FAILED", "EVAL_CASE_UNAVAILABLE", "BASE_NOT_FOUND",  # evaluation attempts
}


def decide(task: Task, evidence: Evidence, *, stopped_note: str | None = None) -> Outcome:
    """Decide the terminal state from the agent's own result first, then the repository's state."""
    has_work = bool(evidence.pr_url) or (evidence.commits_ahead or 0) > 0
    if task.agent_status == "success":
        if has_work:
            return Outcome(TaskStatus.COMPLETED, note="agent succeeded; changes are on the branch")
        return Outcome(TaskStatus.COMPLETED, note="agent succeeded and found nothing to change")
    if task.agent_status == "error":
        code = task.error_code if task.error_code in _AGENT_ERROR_CODES else "AGENT_ERROR"
        message = task.error_message or "the agent reported an error without a message"
        if has_work:
            message += " (partial work is on the branch)"
        return Outcome(TaskStatus.FAILED, code, message)
    message = stopped_note or "the agent ended without reporting a result"
    if has_work:
        message += "; partial work is on the branch"
    return Outcome(TaskStatus.FAILED, "AGENT_CRASHED", message)

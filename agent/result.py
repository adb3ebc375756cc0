"""What a finished run reports: the result fields of the task row and the AgentFinished event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from agent.delivery import Delivery
from agent.evals.grader import NOT_GRADED, Grade
from agent.model_loop import LoopResult
from agent.pricing import Usage
from shared.events.models import AgentFinished
from shared.observability.redaction import redact
from shared.tasks.models import Task

_SUMMARY_LIMIT = 4_000
_EVENT_SUMMARY_LIMIT = 2_000  # EventBridge details stay far below 256 KB


def _test_fields(delivery: Delivery | None) -> dict[str, Any]:
    """tests: passed | failed | not_run (no test command, or nothing committed to test), exit code and tail."""
    if delivery is None:
        return {}
    test = delivery.test
    if test is None:
        return {"tests": "not_run"}
    return {"tests": "passed" if test.passed else "failed", "test_exit_code": test.exit_code,
            "test_output_tail": test.tail or None}


@dataclass
class RunOutcome:
    """The end of a run that was not cancelled: success unless an error was recorded."""

    error: str | None = None
    error_code: str | None = None  # set by errors that carry their own code; else derived from the loop
    summary: str = ""
    loop: LoopResult | None = None
    delivery: Delivery | None = None
    trajectory_key: str | None = None
    evaluation: bool = False  # an evaluation attempt: graded (reward 0 when it ended before grading)
    grade: Grade | None = None

    @property
    def status(self) -> Literal["success", "error"]:
        return "error" if self.error else "success"

    @property
    def cost_usd(self) -> float:
        return round(self.loop.cost_usd, 6) if self.loop else 0.0

    def changes(self) -> dict[str, Any]:
        """The result fields written to the task row (redacted; absent values left out)."""
        loop, delivery = self.loop, self.delivery
        pull = delivery.pull if delivery else None
        changes = {
            "agent_status": self.status, "agent_summary": redact(self.summary[:_SUMMARY_LIMIT]) or None,
            "error_message": redact(self.error) if self.error else None,
            "pr_url": pull.url if pull else None, "pr_number": pull.number if pull else None,
            "commit_count": delivery.commit_count if delivery else 0,
            **_test_fields(delivery),
            "cost_usd": self.cost_usd, "tokens": vars(loop.usage if loop else Usage()).copy(),
            "turns": loop.turns if loop else 0, "trajectory_key": self.trajectory_key,
            "error_code": self._error_code(),
            "review_url": delivery.review.url if delivery and delivery.review else None,
            "review_comment_count": delivery.review.comment_count if delivery and delivery.review else None,
            "status_comment_id": delivery.comment.id if delivery and delivery.comment else None,
        }
        if self.evaluation:
            changes.update((self.grade or NOT_GRADED).changes(),
                           diff_key=delivery.diff_key if delivery else None)
        return {k: v for k, v in changes.items() if v is not None}

    def _error_code(self) -> str | None:
        if not self.error:
            return None
        return self.error_code or (self.loop.error_code if self.loop else None)

    def finished_event(self, task: Task) -> AgentFinished:
        """The AgentFinished detail for the finalizer."""
        return AgentFinished(task_id=task.task_id, user_id=task.user_id, outcome=self.status,
                             summary=redact(self.summary[:_EVENT_SUMMARY_LIMIT]) or None,
                             error_message=redact(self.error) if self.error else None, cost_usd=self.cost_usd)

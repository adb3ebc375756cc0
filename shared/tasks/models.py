"""The task record and its audit-trail events."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.attachments.models import AttachmentRef
from shared.clock import new_id, utcnow
from shared.tasks.pending import OutboxEntry
from shared.tasks.states import TaskStatus

TERMINAL_TTL_SECONDS = 90 * 24 * 3600
TaskType = Literal["new_task", "pr_iteration", "pr_review"]
PR_TASK_TYPES = frozenset({"pr_iteration", "pr_review"})
# How long an Idempotency-Key or a webhook delivery id is remembered (the table's TTL removes it after).
IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600


def slugify(text: str, limit: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].strip("-") or "task"


class Tokens(BaseModel):
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0


class Task(BaseModel):
    """One coding task, as stored in the Tasks table."""

    model_config = ConfigDict(extra="ignore")

    task_id: str
    user_id: str
    status: TaskStatus = TaskStatus.SUBMITTED
    repo: str
    issue_number: int | None = None
    task_description: str | None = None
    branch_name: str
    channel_source: Literal["api", "webhook", "github", "cli", "schedule", "ui", "eval"] = "api"
    channel_metadata: dict[str, Any] | None = None
    max_turns: int | None = None
    max_budget_usd: float | None = None
    model_id: str | None = None
    idempotency_key: str | None = None
    slot_held: bool = False
    created_at: str = Field(default_factory=utcnow)
    updated_at: str = Field(default_factory=utcnow)
    started_at: str | None = None
    completed_at: str | None = None
    agent_heartbeat_at: str | None = None
    prompt_version: str | None = None
    context_key: str | None = None
    session_id: str | None = None
    compute_handle: str | None = None
    agent_status: Literal["success", "error"] | None = None
    agent_summary: str | None = None
    pr_url: str | None = None
    pr_number: int | None = None
    commit_count: int | None = None
    test_passed: bool | None = None  # read from items written before `tests`; never written now
    tests: Literal["passed", "failed", "not_run"] | None = None
    test_exit_code: int | None = None
    test_output_tail: str | None = None  # the last lines of the repository's test command, redacted
    cost_usd: float | None = None
    tokens: Tokens | None = None
    turns: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    redriven_at: str | None = None
    save_trajectory: bool = False
    schedule_id: str | None = None  # the schedule that created this task, when one did
    attachments: list[AttachmentRef] | None = None
    sandbox: Literal["on", "off"] | None = None  # "off" only when the operator opted out
    trajectory_key: str | None = None  # when the reconciler last re-sent this task's lost event
    warnings: list[str] | None = None  # set at create, e.g. the model is near its end of life
    expires_at: int | None = None
    pre_approved_rules: list[str] | None = None  # approval rules this task's commands skip
    # new_task opens a PR; pr_iteration pushes to the PR `pr_number` names; pr_review only reviews it.
    task_type: TaskType = "new_task"
    review_url: str | None = None
    review_comment_count: int | None = None
    status_comment_id: int | None = None  # the one GitHub status comment of a GitHub-triggered task
    # An evaluation attempt: its run, its case and which of the case's k attempts it is.
    eval_id: str | None = None
    case_id: str | None = None
    attempt: int | None = None
    model_endpoint: str | None = None  # a registered Anthropic-compatible endpoint the model calls go to
    # The grade of an evaluation attempt, written by the agent before it announces AgentFinished.
    reward: int | None = None
    grade: Literal["passed", "failed", "grader_error"] | None = None
    tests_passed: int | None = None
    tests_failed: int | None = None
    grade_output_tail: str | None = None
    grade_error: str | None = None
    diff_key: str | None = None
    # Events announced by a transition and not yet published; `outbox_pending` keys the sparse OutboxIndex.
    outbox: dict[str, OutboxEntry] | None = None
    outbox_pending: str | None = None

    @model_validator(mode="after")
    def _tests_from_test_passed(self) -> "Task":
        if self.tests is None and self.test_passed is not None:
            self.tests = "passed" if self.test_passed else "failed"
        return self

    @classmethod
    def new(cls, *, user_id: str, repo: str, task_description: str | None = None,
            issue_number: int | None = None, **fields: Any) -> "Task":
        """A fresh SUBMITTED task with its id and branch name."""
        task_id = new_id()
        title = task_description or (f"issue-{issue_number}" if issue_number else "task")
        branch = fields.pop("branch_name", None) or f"bgagent/{task_id}/{slugify(title)}"
        return cls(task_id=task_id, user_id=user_id, repo=repo, task_description=task_description,
                   issue_number=issue_number, branch_name=branch, **fields)

    @property
    def status_created(self) -> str:
        return f"{self.status.value}#{self.created_at}"

    def to_record(self) -> dict[str, Any]:
        """The item written to DynamoDB, with the index attributes derived from the fields."""
        data = self.model_dump(mode="json", exclude_none=True)
        data["status_created"] = self.status_created
        return data


class TaskEvent(BaseModel):
    """One entry of a task's append-only audit trail."""

    task_id: str
    event_id: str = Field(default_factory=new_id)
    event_type: str
    timestamp: str = Field(default_factory=utcnow)
    metadata: dict[str, Any] = Field(default_factory=dict)


class UserConcurrency(BaseModel):
    user_id: str
    active_count: int = 0
    max_concurrency: int | None = None
    updated_at: str | None = None

"""Request and response bodies of the API (they are also its OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.gateway.attachments import AttachmentIn
from shared.attachments.models import (
    MAX_ATTACHMENTS,
    MAX_INLINE_BYTES,
    MAX_INLINE_TOTAL,
    MAX_URL_BYTES,
    AttachmentRef,
)
from shared.clock import parse_time
from shared.repos.models import REPO_PATTERN, RepoName
from shared.tasks.classification import ErrorClassification, classify
from shared.tasks.fields import TaskFields
from shared.tasks.models import PR_TASK_TYPES, Task, TaskEvent, Tokens


class CreateTaskRequest(TaskFields):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True,
        json_schema_extra={"anyOf": [{"required": ["issue_number"]}, {"required": ["task_description"]},
                                      {"required": ["pr_number"]}]})

    repo: RepoName = Field(..., description="OWNER/NAME of an onboarded repository",
                      json_schema_extra={"pattern": REPO_PATTERN.pattern})
    save_trajectory: bool = Field(False, description="keep the run's full redacted trajectory in S3")
    attachments: list[AttachmentIn] | None = Field(
        None, description=f"up to {MAX_ATTACHMENTS}: images and text/PDF files inline (base64, "
                          f"{MAX_INLINE_BYTES // 1024} KB each, {MAX_INLINE_TOTAL // 2**20} MB in all) or https URLs "
                          f"fetched at hydration ({MAX_URL_BYTES // 2**20} MB)",
        json_schema_extra={"maxItems": MAX_ATTACHMENTS})
    pre_approved_rules: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]] | None = Field(
        None, max_length=20, description="names of the repo's approval rules this task's commands skip")

    @model_validator(mode="after")
    def _something_to_do(self) -> "CreateTaskRequest":
        if self.task_type is None:
            self.task_type = "pr_iteration" if self.pr_number is not None else "new_task"
        if self.task_type in PR_TASK_TYPES and self.pr_number is None:
            raise ValueError(f"a {self.task_type} task needs a pr_number")
        if self.task_type == "new_task" and self.pr_number is not None:
            raise ValueError("a new_task opens its own pull request: leave pr_number out, or ask for pr_iteration")
        if self.task_type == "new_task" and self.issue_number is None and not self.task_description:
            raise ValueError("give an issue_number, a task_description, or both")
        return self


class TaskView(BaseModel):
    """A task as the API shows it to its owner."""

    task_id: str
    status: str
    repo: str
    task_type: str = "new_task"
    pr_number: int | None = None
    issue_number: int | None = None
    task_description: str | None = None
    branch_name: str
    channel_source: str
    channel_metadata: dict[str, Any] | None = None
    model_id: str | None = None
    engine: str | None = Field(None, description="native or claude-code: the task's own, else its repo's, else "
                                                 "the platform's")
    max_turns: int | None = None
    max_budget_usd: float | None = None
    created_at: str
    updated_at: str
    started_at: str | None = None
    completed_at: str | None = None
    duration_seconds: float | None = None
    pr_url: str | None = None
    review_url: str | None = Field(None, description="the submitted review of a pr_review task")
    review_comment_count: int | None = Field(None, description="inline comments of that review")
    commit_count: int | None = None
    tests: Literal["passed", "failed", "not_run"] | None = Field(
        None, description="the repository's test command after the agent's change: passed, failed, or not run")
    test_exit_code: int | None = None
    test_output_tail: str | None = Field(None, description="the last lines of the test command's output, redacted")
    cost_usd: float | None = None
    tokens: Tokens | None = None
    turns: int | None = None
    prompt_version: str | None = None
    trajectory_key: str | None = Field(None, description="S3 key of the saved trajectory, when one was asked for")
    pre_approved_rules: list[str] | None = None
    agent_summary: str | None = None
    attachments: list[AttachmentRef] | None = Field(
        None, description="what was attached, stored in the artifacts bucket")
    schedule_id: str | None = Field(None, description="the schedule that created the task")
    eval_id: str | None = Field(None, description="the evaluation run of which this task is an attempt")
    case_id: str | None = Field(None, description="the evaluation case this attempt works on")
    attempt: int | None = Field(None, description="which of the case's attempts this is (1…k)")
    model_endpoint: str | None = Field(None, description="the registered model endpoint the model calls go to")
    sandbox: Literal["on", "off"] | None = Field(
        None, description='"off" when the operator ran the agent\'s commands unsandboxed (BGAGENT_SANDBOX=off)')
    reward: int | None = Field(None, description="an attempt's reward: 1 when the case's hidden tests passed, else 0")
    grade: Literal["passed", "failed", "grader_error"] | None = Field(
        None, description="an attempt's grade (absent: it ended before grading, reward 0)")
    tests_passed: int | None = Field(None, description="hidden tests passed, where the output said")
    tests_failed: int | None = None
    grade_output_tail: str | None = Field(None, description="the last lines of the grading run, redacted")
    grade_error: str | None = Field(None, description="why an attempt could not be graded (grader_error)")
    diff_key: str | None = Field(None, description="S3 key of an attempt's diff (attempts push nothing)")
    error_code: str | None = None
    error_message: str | None = None
    error_classification: ErrorClassification | None = None
    warnings: list[str] | None = Field(None, description="set at create: e.g. the model reaches its end of life "
                                                         "within 30 days")

    @classmethod
    def of(cls, task: Task) -> "TaskView":
        data = task.model_dump(mode="json")
        if task.started_at and task.completed_at:
            data["duration_seconds"] = round(
                (parse_time(task.completed_at) - parse_time(task.started_at)).total_seconds(), 3)
        if task.status.value in ("FAILED", "TIMED_OUT"):
            data["error_classification"] = classify(task.error_code)
        return cls.model_validate(data)


class EventView(BaseModel):
    event_id: str
    event_type: str
    timestamp: str
    metadata: dict[str, Any]

    @classmethod
    def of(cls, event: TaskEvent) -> "EventView":
        return cls.model_validate(event.model_dump())


class Pagination(BaseModel):
    next_token: str | None = None
    has_more: bool = False


class TaskResponse(BaseModel):
    data: TaskView


class TaskListResponse(BaseModel):
    data: list[TaskView]
    pagination: Pagination


class EventListResponse(BaseModel):
    data: list[EventView]
    pagination: Pagination


class CreateWebhookRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(..., min_length=1, max_length=100, description="a label for your own use")


class WebhookView(BaseModel):
    """A webhook as its owner sees it; never its secret."""

    webhook_id: str
    name: str
    status: str
    created_at: str
    revoked_at: str | None = None


class CreatedWebhookView(WebhookView):
    secret: str = Field(..., description="the HMAC secret: shown in this response only, store it now")


class WebhookResponse(BaseModel):
    data: WebhookView


class CreatedWebhookResponse(BaseModel):
    data: CreatedWebhookView


class WebhookListResponse(BaseModel):
    data: list[WebhookView]
    pagination: Pagination


class Acknowledgement(BaseModel):
    """A GitHub event the gateway received and deliberately did nothing with."""

    ignored: bool = True
    reason: str


class AcknowledgementResponse(BaseModel):
    data: Acknowledgement


class Pong(BaseModel):
    pong: bool = True


class PongResponse(BaseModel):
    data: Pong


class Health(BaseModel):
    status: str


class HealthResponse(BaseModel):
    data: Health


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    code: str = Field(..., description="one of the codes in the API's error table")
    message: str
    request_id: str
    details: list[ErrorDetail] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class LoginLink(BaseModel):
    """A one-time link that signs its opener in to the web panel as the caller."""

    login_url: str = Field(..., description="open once, within expires_at; it stops working after one use")
    expires_at: str


class LoginLinkResponse(BaseModel):
    data: LoginLink

"""Event contracts between services: one frozen, versioned detail model per detail-type."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

EVENT_SOURCE = "bgagent"  # the source of every event the platform itself puts on its bus


class EventDetail(BaseModel):
    """Base of every event detail; consumers ignore fields they do not know."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    detail_type: ClassVar[str]
    source: ClassVar[str] = EVENT_SOURCE

    version: int = 1
    trace_header: str | None = None


class TaskDetail(EventDetail):
    task_id: str
    user_id: str | None = None


class TaskSubmitted(TaskDetail):
    detail_type: ClassVar[str] = "TaskSubmitted"


class SlotReleased(TaskDetail):
    """A user's slot was freed; task_id names the task that freed it, when one did."""

    detail_type: ClassVar[str] = "SlotReleased"
    task_id: str | None = None  # type: ignore[assignment]  # a slot may be freed with no task
    user_id: str


class TaskHydrated(TaskDetail):
    detail_type: ClassVar[str] = "TaskHydrated"
    context_key: str


class TaskCancelled(TaskDetail):
    detail_type: ClassVar[str] = "TaskCancelled"
    reason: str | None = None
    eval_id: str | None = None  # an evaluation attempt's run: the reconciler counts it


class AgentFinished(TaskDetail):
    detail_type: ClassVar[str] = "AgentFinished"
    outcome: Literal["success", "error"]
    summary: str | None = None
    error_message: str | None = None
    cost_usd: float | None = None


class ComputeSessionStopped(TaskDetail):
    """A local agent process ended (the process strategy's counterpart of ECS STOPPED)."""

    detail_type: ClassVar[str] = "Compute Session Stopped"
    compute_handle: str
    exit_code: int | None = None


class TaskTerminal(TaskDetail):
    status: str
    error_code: str | None = None
    pr_url: str | None = None
    eval_id: str | None = None  # an evaluation attempt's run: the reconciler counts it


class TaskCompleted(TaskTerminal):
    detail_type: ClassVar[str] = "TaskCompleted"


class TaskFailed(TaskTerminal):
    detail_type: ClassVar[str] = "TaskFailed"


class TaskTimedOut(TaskTerminal):
    detail_type: ClassVar[str] = "TaskTimedOut"


class ReconcileTick(EventDetail):
    detail_type: ClassVar[str] = "ReconcileTick"
    tick_at: str | None = None


class EcsTaskStateChange(BaseModel):
    """The part of AWS's `ECS Task State Change` event the finalizer reads."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)
    detail_type: ClassVar[str] = "ECS Task State Change"
    source: ClassVar[str] = "aws.ecs"

    task_arn: str = Field(alias="taskArn")
    last_status: str = Field(alias="lastStatus")
    started_by: str | None = Field(None, alias="startedBy")
    group: str | None = None  # "family:<agent family>" for RunTask sessions, "service:<name>" for warm agents
    stopped_reason: str | None = Field(None, alias="stoppedReason")
    stop_code: str | None = Field(None, alias="stopCode")
    containers: list[dict[str, Any]] = Field(default_factory=list)


def _concrete(base: type[EventDetail]) -> list[type[EventDetail]]:
    """Every subclass of `base` that names a detail-type of its own."""
    found: list[type[EventDetail]] = []
    for sub in base.__subclasses__():
        if "detail_type" in vars(sub):
            found.append(sub)
        found.extend(_concrete(sub))
    return found


# Every event the platform reads, by (source, detail-type): each model declares its own, so none is listed twice.
_MODELS: list[type[EventDetail] | type[EcsTaskStateChange]] = [*_concrete(EventDetail), EcsTaskStateChange]
DETAIL_MODELS: dict[tuple[str, str], type[BaseModel]] = {
    (m.source, m.detail_type): m for m in _MODELS
}

"""Steering a running task: nudge it, and approve or deny the commands it is holding back."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from services.gateway.deps import Caller, Deps, GatewayDeps, Writer
from services.gateway.notify import outbox
from services.gateway.openapi import AUTHENTICATED, WRITES, errors
from services.gateway.refusals import ApprovalNotPending, RateLimited, TaskNotRunning
from services.gateway.routes.tasks import owned_task
from services.gateway.schemas_steering import (
    ApprovalResponse,
    ApprovalView,
    DecisionRequest,
    NudgeRequest,
    NudgeResponse,
    NudgeView,
    PendingListResponse,
)
from shared.clock import utcnow
from shared.observability.redaction import redact
from shared.steering.errors import DecisionRefused, TaskNotSteerable
from shared.steering.models import Approval, Nudge
from shared.steering.resume import resume_task
from shared.tasks.states import TaskStatus

router = APIRouter(tags=["steering"])


def _not_running(task_id: str, status: TaskStatus | None) -> TaskNotRunning:
    return TaskNotRunning(f"task {task_id} is {status.value if status else 'gone'}: only a RUNNING task takes "
                          "nudges")


@router.post("/v1/tasks/{task_id}/nudge", status_code=202, response_model=NudgeResponse,
             summary="Send a message to a running task's agent",
             description="The agent reads it before its next model call, as a message from you.",
             responses=errors(*AUTHENTICATED, *WRITES, "TASK_NOT_FOUND", "TASK_NOT_RUNNING"))
async def nudge_task(task_id: str, body: NudgeRequest, caller: Writer, d: Deps) -> NudgeResponse:
    task = await owned_task(d, task_id, caller)
    if task.status != TaskStatus.RUNNING:
        raise _not_running(task_id, task.status)
    wait = d.nudge_limiter.take(task_id)
    if wait is not None:
        raise RateLimited("too many nudges for this task: let the agent read them first", wait=wait)
    try:
        # Like a description, the message is stored and shown again: credential-shaped text is masked first.
        stored = await d.nudges.add(Nudge(task_id=task_id, user_id=caller.user_id, message=redact(body.message)))
    except TaskNotSteerable as exc:
        raise _not_running(task_id, exc.status) from exc
    return NudgeResponse(data=NudgeView.of(stored))


async def _decide(d: GatewayDeps, task_id: str, body: DecisionRequest, decision: Literal["approved", "denied"],
                  user_id: str) -> ApprovalView:
    approval = await d.approvals.get(task_id, body.approval_id)
    if approval is None:
        raise ApprovalNotPending(f"approval {body.approval_id} is unknown for task {task_id}")
    if approval.expired(utcnow()):
        raise ApprovalNotPending(f"approval {approval.approval_id} expired at {approval.expires_at} "
                                 "(an expired request counts as denied)")
    try:
        decided = await d.approvals.decide(approval, decision, by=user_id, reason=body.reason)
    except DecisionRefused as exc:
        found = exc.approval.status if exc.approval else "unknown"
        status = exc.task_status.value if exc.task_status else "gone"
        raise ApprovalNotPending(f"approval {approval.approval_id} is {found} and task {task_id} is "
                                 f"{status}: it can no longer be decided") from exc
    if decided.holds_task:
        await resume_task(outbox(d.tasks, d.bus), decided)
    return ApprovalView.of(decided)


_DECISION_DOC = errors(*AUTHENTICATED, *WRITES, "TASK_NOT_FOUND", "APPROVAL_NOT_PENDING")


@router.post("/v1/tasks/{task_id}/approve", status_code=202, response_model=ApprovalResponse,
             summary="Let a held-back command, connection or push go ahead", responses=_DECISION_DOC,
             description="Decided once: a second decision, an unknown or an expired request answers 409.")
async def approve_task(task_id: str, body: DecisionRequest, caller: Writer, d: Deps) -> ApprovalResponse:
    await owned_task(d, task_id, caller)
    return ApprovalResponse(data=await _decide(d, task_id, body, "approved", caller.user_id))


@router.post("/v1/tasks/{task_id}/deny", status_code=202, response_model=ApprovalResponse,
             summary="Refuse a held-back command, connection or push", responses=_DECISION_DOC,
             description="The model is told the command was refused, with your reason, and carries on.")
async def deny_task(task_id: str, body: DecisionRequest, caller: Writer, d: Deps) -> ApprovalResponse:
    await owned_task(d, task_id, caller)
    return ApprovalResponse(data=await _decide(d, task_id, body, "denied", caller.user_id))


@router.get("/v1/pending", response_model=PendingListResponse,
            summary="Your requests waiting for a decision (commands, unlisted hosts, pushes)",
            responses=errors(*AUTHENTICATED))
async def list_pending_approvals(caller: Caller, d: Deps) -> PendingListResponse:
    now, statuses = utcnow(), {}
    found: list[Approval] = []
    for approval in await d.approvals.pending_for_user(caller.user_id):
        if approval.task_id not in statuses:
            task = await d.tasks.get(approval.task_id)
            statuses[approval.task_id] = task.status if task else None
        if statuses[approval.task_id] in approval.decidable_while and not approval.expired(now):
            found.append(approval)
    return PendingListResponse(data=[ApprovalView.of(a) for a in found])

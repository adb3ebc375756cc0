"""Request and response bodies of nudges and approvals."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.steering.models import NUDGE_MAX_CHARS, Approval, ApprovalKind, Nudge


class NudgeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(..., min_length=1, max_length=NUDGE_MAX_CHARS,
                         description="read by the agent before its next model call, marked as from you")


class NudgeView(BaseModel):
    nudge_id: str
    task_id: str
    message: str
    status: str = Field(..., description="pending, then delivered once the agent has read it")
    created_at: str

    @classmethod
    def of(cls, nudge: Nudge) -> "NudgeView":
        return cls.model_validate(nudge.model_dump())


class NudgeResponse(BaseModel):
    data: NudgeView


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approval_id: str = Field(..., min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$")
    reason: str | None = Field(None, max_length=2_000, description="passed to the model with a denial")


class ApprovalView(BaseModel):
    """A held-back command, connection or push waiting for (or past) its owner's decision."""

    approval_id: str
    task_id: str
    rule: str
    kind: ApprovalKind = Field(..., description="command (a rule matched), egress (an unlisted host) or push")
    command: str = Field(..., description="all of what is held back, as text (the command, `connect to HOST:PORT`, "
                                          "or the push's branch, commits and files)")
    reason: str = Field(..., description="what the model said it was doing")
    status: str = Field(..., description="pending, approved, denied or expired")
    created_at: str
    expires_at: str
    decided_at: str | None = None
    decided_by: str | None = None
    decision_reason: str | None = None

    @classmethod
    def of(cls, approval: Approval) -> "ApprovalView":
        return cls.model_validate(approval.model_dump())


class ApprovalResponse(BaseModel):
    data: ApprovalView


class PendingListResponse(BaseModel):
    data: list[ApprovalView]

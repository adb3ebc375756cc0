"""Nudges, approval rules and approval requests."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.clock import new_id, parse_time, utcnow
from shared.tasks.states import TaskStatus

NUDGE_MAX_CHARS = 2_000
DEFAULT_APPROVAL_TIMEOUT_S = 1_800
RULE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ApprovalStatus = Literal["pending", "approved", "denied", "expired"]
Decision = Literal["approved", "denied", "expired"]
# What a request holds back: a command of the model (a rule's match), a connection to an unlisted host, the push.
ApprovalKind = Literal["command", "egress", "push"]
# Where a rule looks: the bash tool, the editor ("<command> <path>" and the text it writes), setup and test commands.
GateTarget = Literal["bash", "editor", "setup", "test"]


class Nudge(BaseModel):
    """A message from a task's owner to its running agent."""

    model_config = ConfigDict(extra="ignore")

    task_id: str
    nudge_id: str = Field(default_factory=new_id)
    user_id: str
    message: str = Field(..., min_length=1, max_length=NUDGE_MAX_CHARS)
    status: Literal["pending", "delivered"] = "pending"
    created_at: str = Field(default_factory=utcnow)
    delivered_at: str | None = None


def _bash_only() -> list[GateTarget]:
    return ["bash"]


class ApprovalRule(BaseModel):
    """Text matching `pattern` (searched anywhere) in what the rule applies to waits for a person's decision.

    A check on the text of a command, which a determined model can write another way: a speed bump, not a boundary.
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    pattern: str = Field(..., min_length=1, max_length=500)
    timeout_s: int = Field(DEFAULT_APPROVAL_TIMEOUT_S, ge=1, le=7 * 24 * 3600)
    applies_to: list[GateTarget] = Field(default_factory=_bash_only, min_length=1, max_length=4)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not RULE_NAME.match(value):
            raise ValueError("a rule name is 1-64 letters, digits, '.', '_' or '-'")
        return value

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        return value

    def matches(self, command: str) -> bool:
        return re.search(self.pattern, command) is not None


def first_gate(rules: list[ApprovalRule], command: str, skipped: set[str], *,
               target: GateTarget = "bash") -> ApprovalRule | None:
    """The first rule (in order) for `target` that holds `command` back, leaving out the pre-approved ones."""
    return next((r for r in rules if target in r.applies_to and r.name not in skipped and r.matches(command)), None)


# The platform's own gates, decided like a rule's request: the push (repo `approve_push`), unlisted hosts
# (repo `egress: ask`).
PUSH_GATE = ApprovalRule(name="approve_push", pattern=".")
EGRESS_GATE = ApprovalRule(name="egress_ask", pattern=".")


class Approval(BaseModel):
    """An approval request: one gated command of one task, decided once."""

    model_config = ConfigDict(extra="ignore")

    task_id: str
    approval_id: str = Field(default_factory=new_id)
    user_id: str
    rule: str
    kind: ApprovalKind = "command"  # rows written before kinds existed were all commands
    command: str  # what is held back, as text: the command, "connect to HOST:PORT", or the push's summary
    reason: str = ""
    status: ApprovalStatus = "pending"
    created_at: str = Field(default_factory=utcnow)
    expires_at: str
    decided_at: str | None = None
    decided_by: str | None = None
    decision_reason: str | None = None
    # Set only while pending: the sparse index behind a user's list of open requests.
    pending_user: str | None = None

    @classmethod
    def new(cls, *, task_id: str, user_id: str, rule: ApprovalRule, command: str, reason: str,
            kind: ApprovalKind = "command") -> "Approval":
        created = utcnow()
        expires = (parse_time(created) + timedelta(seconds=rule.timeout_s)).isoformat(timespec="milliseconds")
        return cls(task_id=task_id, user_id=user_id, rule=rule.name, kind=kind, command=command, reason=reason,
                   created_at=created, expires_at=expires.replace("+00:00", "Z"), pending_user=user_id)

    def expired(self, now: str) -> bool:
        return self.status == "pending" and self.expires_at <= now

    @property
    def holds_task(self) -> bool:
        """Whether the task waits for it (AWAITING_APPROVAL); an egress request is asked while the task goes on."""
        return self.kind != "egress"

    @property
    def decidable_while(self) -> tuple[TaskStatus, ...]:
        """The task states in which a person may decide it."""
        if self.holds_task:
            return (TaskStatus.AWAITING_APPROVAL,)
        return (TaskStatus.RUNNING, TaskStatus.AWAITING_APPROVAL)

"""Approval gates: a tool call matching one of the repo's rules waits for its owner's decision."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Protocol

from agent.errors import Cancelled
from agent.guard import TaskGuard
from agent.tools.protocol import Tool, ToolResult
from shared.aws.errors import StoreUnavailable
from shared.clock import utcnow
from shared.observability.redaction import redact
from shared.steering.approvals import ApprovalStore
from shared.steering.errors import DecisionRefused, TaskNotSteerable
from shared.steering.models import Approval, ApprovalKind, ApprovalRule, GateTarget, first_gate
from shared.steering.resume import resume_task
from shared.tasks.errors import TransitionConflict
from shared.tasks.models import Task
from shared.tasks.outbox import Outbox
from shared.tasks.states import TaskStatus

log = logging.getLogger(__name__)
_REASON_CHARS = 2_000


class TaskReads(Protocol):
    """The task row, read to see where the decision left it."""

    async def get(self, task_id: str) -> Task | None: ...


class ApprovalWaiter:
    """Asks for a decision and holds the run (task AWAITING_APPROVAL, heartbeat going) until it comes."""

    def __init__(self, approvals: ApprovalStore, tasks: TaskReads, guard: TaskGuard, task: Task, *,
                 outbox: Outbox, poll_seconds: float):
        self._approvals = approvals
        self._tasks = tasks
        self._outbox = outbox  # both moves (to AWAITING_APPROVAL and back) go through it, like every transition
        self._guard = guard
        self._task = task
        self._poll = poll_seconds

    async def decision(self, rule: ApprovalRule, command: str, reason: str, *,
                       kind: ApprovalKind = "command") -> Approval:
        """The decided request (approved, denied or expired); Cancelled if the task ends meanwhile."""
        # What people read is redacted; the command that runs once approved is the model's own.
        approval = Approval.new(task_id=self._task.task_id, user_id=self._task.user_id, rule=rule, kind=kind,
                                command=redact(command), reason=redact(reason[:_REASON_CHARS]))
        try:
            await self._approvals.request(approval)
            await self._outbox.transition(self._task.task_id, TaskStatus.AWAITING_APPROVAL,
                                          expected={TaskStatus.RUNNING},
                                          event_metadata={"approval_id": approval.approval_id, "rule": rule.name,
                                                          "kind": kind})
        except (TaskNotSteerable, TransitionConflict) as exc:
            self._stop(f"the task left RUNNING before the approval request ({exc})")
        log.info("waiting for approval %s (rule %s)", approval.approval_id, rule.name)
        return await self._until_decided(approval)

    def _stop(self, reason: str) -> None:
        self._guard.stop(reason)
        raise Cancelled(reason)

    async def _until_decided(self, approval: Approval) -> Approval:
        while True:
            if self._guard.is_stopped():
                raise Cancelled(self._guard.stop_reason or "stopped")
            try:
                decided = await self._check(approval)
            except StoreUnavailable as exc:
                log.warning("could not read the approval request: %s", exc)
                decided = None
            if decided is not None:
                return decided
            try:
                await asyncio.wait_for(self._guard.stopped.wait(), self._poll)
            except TimeoutError:
                pass

    async def _check(self, approval: Approval) -> Approval | None:
        """The decided request once the task is RUNNING again; None while it is still open."""
        task = await self._tasks.get(approval.task_id)
        if task is None or task.status.is_terminal:
            self._stop(f"the task is {task.status.value if task else 'gone'}")
        current = await self._approvals.get(approval.task_id, approval.approval_id) or approval
        if current.expired(utcnow()):
            current = await self._expire(current)
        if current.status == "pending":
            return None
        await resume_task(self._outbox, current)
        task = await self._tasks.get(approval.task_id)
        if task is None or task.status != TaskStatus.RUNNING:
            self._stop(f"the task is {task.status.value if task else 'gone'} after the decision")
        return current

    async def _expire(self, approval: Approval) -> Approval:
        """Undecided past its timeout: denied, by the clock (unless a decision just got in first)."""
        try:
            return await self._approvals.decide(approval, "expired", by="timeout")
        except DecisionRefused as exc:
            return exc.approval or approval


# The editor's text a rule reads: enough for any pattern, bounded so a huge file costs no huge search.
EDITOR_TEXT_CHARS = 20_000


def bash_text(tool_input: dict[str, Any]) -> str | None:
    """The command a bash call runs (None for a restart, which runs nothing)."""
    command = tool_input.get("command")
    return command if isinstance(command, str) and not tool_input.get("restart") else None


def editor_text(tool_input: dict[str, Any]) -> str | None:
    """`<command> <path>`, then the first EDITOR_TEXT_CHARS of what a create, str_replace or insert writes."""
    written = next((v for k in ("file_text", "new_str", "insert_text") if isinstance(v := tool_input.get(k), str)), "")
    head = f"{tool_input.get('command')} {tool_input.get('path')}"
    return f"{head}\n{written[:EDITOR_TEXT_CHARS]}" if written else head


_GATED_TEXT: dict[GateTarget, Callable[[dict[str, Any]], str | None]] = {"bash": bash_text, "editor": editor_text}


class RuleCheck:
    """The repo's rules for one target, as a check on the text a call would run or write: None once it may go
    ahead (held for the owner's decision when a rule matches), else the refusal the model is shown.

    For bash it is the engines' BashApproval: an engine that runs commands itself (Claude Code's Bash) asks it.
    """

    def __init__(self, rules: list[ApprovalRule], *, pre_approved: set[str], waiter: ApprovalWaiter,
                 reason: Callable[[], str], target: GateTarget = "bash"):
        self._rules = rules
        self._pre_approved = pre_approved
        self._waiter = waiter
        self._reason = reason
        self._target = target

    async def __call__(self, text: str) -> str | None:
        rule = first_gate(self._rules, text, self._pre_approved, target=self._target)
        if rule is None:
            return None
        approval = await self._waiter.decision(rule, text, self._reason())
        if approval.status == "approved":
            return None
        return refusal_text(rule, approval, "Command not run" if self._target == "bash" else "Edit not made")


class ApprovalGate:
    """A tool (bash or the editor) behind the repo's rules for it: a matching call runs only once approved."""

    def __init__(self, inner: Tool, rules: list[ApprovalRule], *, pre_approved: set[str], waiter: ApprovalWaiter,
                 reason: Callable[[], str], target: GateTarget = "bash"):
        self._inner = inner
        self._check = RuleCheck(rules, pre_approved=pre_approved, waiter=waiter, reason=reason, target=target)
        self._target = target

    @property
    def definition(self) -> dict[str, Any]:
        return self._inner.definition

    async def run(self, tool_input: dict[str, Any]) -> ToolResult:
        text = _GATED_TEXT[self._target](tool_input)
        refusal = None if text is None else await self._check(text)
        if refusal is None:
            return await self._inner.run(tool_input)
        return ToolResult(refusal, is_error=True)


def why_not(rule: ApprovalRule, approval: Approval) -> str:
    """Why a request did not go through, in words."""
    if approval.status == "expired":
        return f"nobody decided within {rule.timeout_s} s, which counts as a denial"
    return f"the task's owner denied it: {approval.decision_reason or 'no reason given'}"


def refusal_text(rule: ApprovalRule, approval: Approval, what: str = "Command not run") -> str:
    """What the model is told when a person did not let the call run."""
    return (f"{what}. It matches the approval rule {rule.name!r}, so it needed a person's approval, "
            f"and {why_not(rule, approval)}. Do not retry it in another form; carry on without it, or finish and "
            "say what you need.")

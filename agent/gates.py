"""What the runtime itself runs or sends, held for the owner's decision: setup and test commands, the push."""

from __future__ import annotations

from typing import Awaitable, Callable, Literal, Protocol

from agent.approvals import ApprovalWaiter, why_not
from agent.errors import NotApproved
from shared.steering.models import PUSH_GATE, ApprovalRule, first_gate

ScriptTarget = Literal["setup", "test"]


class DeliveryGates(Protocol):
    async def script(self, target: ScriptTarget, command: str) -> None:
        """Return once `command` may run; NotApproved if a rule for `target` held it and nobody approved."""

    async def push(self, repo: str, branch: str, commit_count: int) -> None:
        """Return once the branch may be pushed; NotApproved if the push needed approval and did not get it."""


class OpenGates:
    """No rule for setup or test and no `approve_push`: everything goes ahead."""

    async def script(self, target: ScriptTarget, command: str) -> None:
        return None

    async def push(self, repo: str, branch: str, commit_count: int) -> None:
        return None


class ApprovalGates:
    """The repo's rules for `setup` and `test`, and its `approve_push`, through the task's ApprovalWaiter."""

    def __init__(self, rules: list[ApprovalRule], *, pre_approved: set[str], waiter: ApprovalWaiter,
                 approve_push: bool, files_changed: Callable[[], Awaitable[int | None]]):
        self._rules = rules
        self._pre_approved = pre_approved
        self._waiter = waiter
        self._approve_push = approve_push
        self._files_changed = files_changed

    async def script(self, target: ScriptTarget, command: str) -> None:
        rule = first_gate(self._rules, command, self._pre_approved, target=target)
        if rule is None:
            return
        approval = await self._waiter.decision(rule, command, f"the repository's {target} command")
        if approval.status != "approved":
            raise NotApproved(f"the repository's {target} command matches the approval rule {rule.name!r} and was "
                              f"not run: {why_not(rule, approval)}")

    async def push(self, repo: str, branch: str, commit_count: int) -> None:
        if not self._approve_push:
            return
        files = await self._files_changed()
        summary = (f"push branch {branch} to {repo}: {commit_count} commit{'s' if commit_count != 1 else ''}, "
                   f"{'an unknown number of' if files is None else files} file{'s' if files != 1 else ''} changed; "
                   "then open or update its pull request")
        approval = await self._waiter.decision(PUSH_GATE, summary, "the repository asks for approval before a push",
                                               kind="push")
        if approval.status != "approved":
            raise NotApproved(f"nothing was pushed and no pull request opened: the repository asks for approval "
                              f"before a push, and {why_not(PUSH_GATE, approval)}")

"""The repo's approval rules as a Claude Code session's Bash gate, decided by the runtime's approval flow."""

from __future__ import annotations

from agent.approvals import Decider, held
from shared.steering.models import ApprovalRule


class RuleApproval:
    """A `BashApproval`: a command matching a rule waits for its owner (AWAITING_APPROVAL, decisions, timeouts)."""

    def __init__(self, rules: list[ApprovalRule], *, pre_approved: set[str], waiter: Decider):
        self._rules = rules
        self._pre_approved = pre_approved
        self._waiter = waiter

    async def __call__(self, command: str, reason: str) -> str | None:
        return await held(self._rules, self._pre_approved, self._waiter, command, lambda: reason)

"""The runtime's hooks in a Claude Code session: approvals before a Bash command, nudges after each tool and at
the end, and no work sent to the background (it would finish after the session, unseen)."""

from __future__ import annotations

from typing import Any

from claude_agent_sdk import HookContext

from agent.engines.protocol import EngineJob
from agent.engines.transport import Pending

BACKGROUND_REFUSED = ("Background work is not available in this session: nothing may run after it ends. "
                      "Run it in the foreground instead.")
# Tools with a `run_in_background` input: a background shell or sub-agent.
_BACKGROUND_CAPABLE = ("Bash", "Task", "Agent")


def _deny(reason: str) -> dict[str, Any]:
    return {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                   "permissionDecisionReason": reason}}


def _context(event: str, notes: list[str]) -> dict[str, Any]:
    return {"hookSpecificOutput": {"hookEventName": event, "additionalContext": "\n\n".join(notes)}} if notes else {}


class SessionHooks:
    """PreToolUse, PostToolUse and Stop for one job."""

    def __init__(self, job: EngineJob, pending: Pending):
        self._job = job
        self._pending = pending

    async def pre_tool_use(self, data: Any, tool_use_id: str | None, context: HookContext) -> Any:
        """Refuse background work; hold a Bash command matching an approval rule until its owner decides."""
        name, tool_input = data.get("tool_name"), data.get("tool_input") or {}
        if name in _BACKGROUND_CAPABLE and tool_input.get("run_in_background"):
            return _deny(BACKGROUND_REFUSED)
        command = tool_input.get("command")
        if name != "Bash" or self._job.approval is None or not isinstance(command, str):
            return {}
        with self._pending.hold():
            refusal = await self._job.approval(command)
        return _deny(refusal) if refusal is not None else {}

    async def post_tool_use(self, data: Any, tool_use_id: str | None, context: HookContext) -> Any:
        """The owner's nudges, with the tool's result: they reach the model's next request."""
        return _context("PostToolUse", await self._notes())

    async def stop(self, data: Any, tool_use_id: str | None, context: HookContext) -> Any:
        """A nudge that arrived as the model finished: the session goes on so the model can act on it."""
        notes = await self._notes()
        return {"decision": "block", "reason": "\n\n".join(notes)} if notes else {}

    async def _notes(self) -> list[str]:
        return await self._job.inbox.collect() if self._job.inbox is not None else []

"""The runtime's hooks in a Claude Code session: approvals before a Bash command or a file edit, nudges after each
tool and at the end, and no work sent to the background (it would finish after the session, unseen)."""

from __future__ import annotations

from typing import Any, Callable

from claude_agent_sdk import HookContext

from agent.approvals import editor_text
from agent.engines.protocol import BashApproval, EngineJob
from agent.engines.transport import Pending

BACKGROUND_REFUSED = ("Background work is not available in this session: nothing may run after it ends. "
                      "Run it in the foreground instead.")
# Tools with a `run_in_background` input: a background shell or sub-agent.
_BACKGROUND_CAPABLE = ("Bash", "Task", "Agent")
# Claude Code's file-writing tools, as the native editor's calls the editor's approval rules read.
_EDITS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "Write": lambda i: {"command": "create", "path": i.get("file_path"), "file_text": i.get("content")},
    "Edit": lambda i: {"command": "str_replace", "path": i.get("file_path"), "new_str": i.get("new_string")},
    "MultiEdit": lambda i: {"command": "str_replace", "path": i.get("file_path"),
                            "new_str": "\n".join(str(e.get("new_string", "")) for e in i.get("edits") or []
                                                  if isinstance(e, dict))},
    "NotebookEdit": lambda i: {"command": "str_replace", "path": i.get("notebook_path"),
                               "new_str": i.get("new_source")},
}


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
        check, text = self._gated(name, tool_input)
        if check is None or text is None:
            return {}
        with self._pending.hold():
            refusal = await check(text)
        return _deny(refusal) if refusal is not None else {}

    def _gated(self, name: Any, tool_input: dict[str, Any]) -> tuple[BashApproval | None, str | None]:
        """The rules a call answers to and the text they read: a Bash command, or a file edit as the native
        editor's rules read it (`<command> <path>`, then what it writes)."""
        if name == "Bash":
            command = tool_input.get("command")
            return self._job.approval, command if isinstance(command, str) else None
        if name in _EDITS:
            return self._job.edit_approval, editor_text(_EDITS[name](tool_input))
        return None, None

    async def post_tool_use(self, data: Any, tool_use_id: str | None, context: HookContext) -> Any:
        """The owner's nudges, with the tool's result: they reach the model's next request."""
        return _context("PostToolUse", await self._notes())

    async def stop(self, data: Any, tool_use_id: str | None, context: HookContext) -> Any:
        """A nudge that arrived as the model finished: the session goes on so the model can act on it."""
        notes = await self._notes()
        return {"decision": "block", "reason": "\n\n".join(notes)} if notes else {}

    async def _notes(self) -> list[str]:
        return await self._job.inbox.collect() if self._job.inbox is not None else []

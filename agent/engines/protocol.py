"""What an engine is given and what it gives back; the runner owns the relay, meter, events and classification.

Usage, cost, turns, agent.turn events and the trajectory come from the relay, never from the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

from shared.repos.mcp import McpServer


class BashApproval(Protocol):
    """The repo's approval rules for a shell command (or, for the editor's rules, an edit's text): None once it may
    run (held for the owner if a rule matches), else the refusal the model is shown."""

    async def __call__(self, command: str, /) -> str | None: ...


class Inbox(Protocol):
    """Messages for the model that arrived while it worked (the owner's nudges)."""

    async def collect(self) -> list[str]: ...


@dataclass(frozen=True)
class EngineJob:
    """One task's session as an engine runs it."""

    model_id: str                      # the provider's model id
    system_prompt: str
    user_prompt: str
    attachments: list[dict[str, Any]]  # content blocks for the first message
    task_type: str                     # pr_review: no Write/Edit
    mcp_servers: dict[str, McpServer]
    approval: BashApproval | None
    inbox: Inbox | None
    stop_requested: Callable[[], bool]
    edit_approval: BashApproval | None = None  # the editor's rules, for an engine that edits files itself


@dataclass
class EngineOutcome:
    """How the session ended, as the engine saw it."""

    finished: bool                     # the engine ended by itself (not crashed, not refused by a limit)
    summary: str                       # the model's last text
    error: str | None = None           # readable; AGENT_CRASHED carries the CLI's last stderr lines (redacted)
    error_code: str | None = None      # AGENT_CRASHED, MODEL_AUTH, … (limits are classified from the meter)


class Engine(Protocol):
    """Runs one job to its end; raises Cancelled when `stop_requested` turns true."""

    async def run(self, job: EngineJob) -> EngineOutcome: ...

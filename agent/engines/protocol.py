"""What the runner hands an engine, and what it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from shared.repos.mcp import McpServer


class BashApproval(Protocol):
    """The repo's approval rules for a Bash command (`reason`: the model's last words): None to run it, else
    what the model is told instead (agent/engines/approval.py RuleApproval)."""

    async def __call__(self, command: str, reason: str) -> str | None: ...


class Inbox(Protocol):
    """The owner's nudges not yet delivered (each returned once)."""

    async def collect(self) -> list[str]: ...


@dataclass(frozen=True)
class EngineJob:
    """One task's work for an engine."""

    model_id: str  # the provider's model id
    system_prompt: str
    user_prompt: str
    attachments: list[dict[str, Any]] = field(default_factory=list)  # content blocks of the first message
    task_type: str = "new_task"  # pr_review: no Write/Edit
    mcp_servers: dict[str, McpServer] = field(default_factory=dict)
    approval: BashApproval | None = None
    inbox: Inbox | None = None
    stop_requested: Callable[[], bool] = lambda: False


@dataclass
class EngineOutcome:
    """How the engine ended; usage, cost and turns come from the relay, not from here."""

    finished: bool  # the engine ended by itself (not crashed, not refused by a limit, not stopped)
    summary: str
    error: str | None = None  # readable; AGENT_CRASHED carries the CLI's last stderr lines (redacted)
    error_code: str | None = None  # AGENT_CRASHED, MODEL_AUTH, MODEL_UNAVAILABLE, MODEL_ERROR

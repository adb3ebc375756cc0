"""The job an engine is given and what it reports; usage, cost and turns come from the model relay, not from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable, Protocol

from shared.repos.mcp import McpServer


class BashApproval(Protocol):
    """The repository's approval rules for a command, held for the task's owner."""

    def __call__(self, command: str) -> Awaitable[str | None]: ...


class Inbox(Protocol):
    """Nudges the task's owner sent while it runs."""

    async def collect(self) -> list[str]: ...


@dataclass(frozen=True)
class EngineJob:
    """Everything an engine needs to work on one task."""

    model_id: str  # the provider's model id
    system_prompt: str
    user_prompt: str
    attachments: list[dict]  # content blocks for the first message
    task_type: str  # pr_review: no Write/Edit
    mcp_servers: dict[str, McpServer]
    approval: BashApproval | None
    inbox: Inbox | None
    stop_requested: Callable[[], bool]


@dataclass
class EngineOutcome:
    """How an engine ended."""

    finished: bool  # the engine ended by itself (not crashed, not refused by a limit)
    summary: str  # the model's last text
    error: str | None = None  # readable
    error_code: str | None = None  # AGENT_CRASHED, MODEL_AUTH, … (limits are classified from the meter)

"""The claude-code engine: the Claude Code CLI as one long-lived process inside the task's sandbox.

The CLI runs as the sandbox's user with the sandbox's environment (never the runtime's), reaches the model
only through the relay's socket bound in, and runs its tools (Bash included) as its own children, in the
same sandbox. Its hooks cross the stdio pipe, so approvals and nudges are decided here, in the runtime.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claude_agent_sdk import (
    AssistantMessage,
    ClaudeAgentOptions,
    ClaudeSDKClient,
    ClaudeSDKError,
    HookMatcher,
    ResultMessage,
    TextBlock,
)

from agent.engines.cli_config import (
    MANAGED_SETTINGS,
    MODEL_PORT,
    cli_argv,
    cli_env,
    disallowed_tools,
    managed_settings,
    mcp_config,
)
from agent.engines.hooks import SessionHooks
from agent.engines.protocol import EngineJob, EngineOutcome
from agent.engines.transport import Pending, SandboxTransport
from agent.errors import Cancelled
from agent.sandbox.protocol import Sandbox, SessionSpec
from agent.settings import AgentSettings
from shared.observability.redaction import redact

log = logging.getLogger(__name__)
_STOP_POLL = 0.25
_DISCONNECT_SECONDS = 10.0
# Past the longest an approval may wait (7 days): the CLI must never give up on a held command first.
_HOOK_TIMEOUT = 8 * 24 * 3600.0
_MODEL_ERRORS = {401: "MODEL_AUTH", 403: "MODEL_AUTH", 404: "MODEL_UNAVAILABLE"}


@dataclass(frozen=True)
class ClaudeCodeSettings:
    """The engine's settings (from AgentSettings)."""

    cli: Path
    bash_timeout_seconds: float = 120.0
    idle_seconds: float = 300.0  # no output and no decision pending for this long: the CLI hangs
    model_retries: int = 4  # the CLI's own retries of a failed model call (the relay refuses limits for good)
    stderr_lines: int = 40

    def __post_init__(self) -> None:
        if self.idle_seconds <= self.bash_timeout_seconds:
            raise ValueError("the idle limit must exceed the Bash timeout: a command runs silently that long")

    @classmethod
    def from_agent(cls, settings: AgentSettings, cli: Path) -> ClaudeCodeSettings:
        """The engine's part of the agent's settings (BGAGENT_CLAUDE_CODE_*, BGAGENT_BASH_TIMEOUT_SECONDS)."""
        return cls(cli=cli, bash_timeout_seconds=settings.bash_timeout_seconds,
                   idle_seconds=settings.claude_code_idle_seconds, model_retries=settings.claude_code_model_retries)


class ClaudeCodeEngine:
    """Runs one task's job through the Claude Code CLI in `sandbox`, its model calls through `relay_socket`."""

    def __init__(self, sandbox: Sandbox, relay_socket: Path, settings: ClaudeCodeSettings):
        self._sandbox = sandbox
        self._relay = relay_socket
        self._settings = settings

    def session_spec(self, job: EngineJob, options: ClaudeAgentOptions) -> SessionSpec:
        """The CLI's session: its argv, environment, the relay's socket and the managed settings."""
        env = cli_env(bash_timeout_seconds=self._settings.bash_timeout_seconds, retries=self._settings.model_retries)
        cli = self._settings.cli
        return SessionSpec(argv=cli_argv(str(cli), options), env=env, sockets={MODEL_PORT: self._relay},
                           readonly=(cli.parent,), etc_files={MANAGED_SETTINGS: managed_settings(env, job.task_type)})

    def options(self, job: EngineJob, hooks: SessionHooks) -> ClaudeAgentOptions:
        """What the SDK tells the CLI: the model, prompt, locked tools, MCP servers and the runtime's hooks."""
        env = cli_env(bash_timeout_seconds=self._settings.bash_timeout_seconds, retries=self._settings.model_retries)
        return ClaudeAgentOptions(
            model=job.model_id, permission_mode="bypassPermissions",
            # The pins again as command-line settings (above every file of the repository's), where no mount
            # namespace can show the managed settings file (two-user, off).
            settings=managed_settings(env, job.task_type),
            system_prompt={"type": "preset", "preset": "claude_code", "append": job.system_prompt},
            disallowed_tools=disallowed_tools(job.task_type), setting_sources=["user", "project", "local"],
            mcp_servers=mcp_config(job.mcp_servers),  # type: ignore[arg-type]
            include_partial_messages=True,  # a long reply streams: silence then means a hang
            hooks={"PreToolUse": [HookMatcher(hooks=[hooks.pre_tool_use], timeout=_HOOK_TIMEOUT, on_failure="block")],
                   "PostToolUse": [HookMatcher(hooks=[hooks.post_tool_use], timeout=_HOOK_TIMEOUT)],
                   "Stop": [HookMatcher(hooks=[hooks.stop], timeout=_HOOK_TIMEOUT)]})

    async def run(self, job: EngineJob) -> EngineOutcome:
        """Run the job to its end; never raises for what the CLI does; Cancelled once `stop_requested` (the CLI
        and everything it started are gone by then)."""
        pending = Pending()
        hooks = SessionHooks(job, pending)
        options = self.options(job, hooks)
        s = self._settings
        transport = SandboxTransport(self._sandbox, self.session_spec(job, options), idle_seconds=s.idle_seconds,
                                     pending=pending, stderr_lines=s.stderr_lines)
        client = ClaudeSDKClient(options, transport=transport)
        watcher = asyncio.create_task(_stop_when(job, transport))
        try:
            return await self._converse(client, job, transport)
        finally:
            watcher.cancel()
            await _bounded(client.disconnect())
            await transport.close()

    async def _converse(self, client: ClaudeSDKClient, job: EngineJob, transport: SandboxTransport) -> EngineOutcome:
        last_text, result = "", None
        try:
            await client.connect()
            await client.query(_first_message(job))
            async for message in client.receive_response():
                if isinstance(message, AssistantMessage):
                    text = "".join(b.text for b in message.content if isinstance(b, TextBlock))
                    last_text = text or last_text
                elif isinstance(message, ResultMessage):
                    result = message
        except Exception as exc:  # whatever the CLI did wrong, the run ends classified below, never raising
            log.warning("the Claude Code session failed: %s", exc)
        if transport.stopped is not None:
            raise Cancelled(transport.stopped)
        if result is None:
            why = transport.failure or "the Claude Code CLI ended without a result"
            tail = transport.stderr_tail()
            return EngineOutcome(False, last_text, error=f"{why}" + (f"; its last output:\n{tail}" if tail else ""),
                                 error_code="AGENT_CRASHED")
        return _outcome(result, last_text)


def _outcome(result: ResultMessage, last_text: str) -> EngineOutcome:
    """A finished session, or its error result in the platform's classification (limits: from the meter)."""
    summary = result.result if result.result is not None else last_text
    if not result.is_error:
        return EngineOutcome(True, summary)
    detail = redact(summary or "; ".join(result.errors or []) or result.subtype)
    code = _MODEL_ERRORS.get(result.api_error_status or 0, "MODEL_ERROR")
    return EngineOutcome(False, last_text, error=f"the model call failed: {detail}", error_code=code)


async def _first_message(job: EngineJob) -> AsyncIterator[dict[str, Any]]:
    """The task as the first user message: attachments as content blocks, then the prompt."""
    content = [*job.attachments, {"type": "text", "text": job.user_prompt}]
    yield {"type": "user", "message": {"role": "user", "content": content}, "parent_tool_use_id": None}


async def _stop_when(job: EngineJob, transport: SandboxTransport) -> None:
    while not job.stop_requested():
        await asyncio.sleep(_STOP_POLL)
    await transport.stop("the task was stopped")


async def _bounded(work: Any) -> None:
    try:
        await asyncio.wait_for(work, _DISCONNECT_SECONDS)
    except (TimeoutError, ClaudeSDKError, OSError, RuntimeError) as exc:
        log.debug("closing the Claude Code client: %s", exc)

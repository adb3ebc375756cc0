"""A task's model session: the relay in front of the provider, and the engine the task names behind it."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, AsyncIterator, Callable

from botocore.exceptions import BotoCoreError, ClientError

from agent.approvals import ApprovalGate, ApprovalWaiter, RuleCheck
from agent.attachments import attachment_blocks
from agent.engines.protocol import EngineJob, EngineOutcome
from agent.errors import AgentError, ContextUnavailable, EngineNotInstalled, ModelEndpointUnavailable
from agent.model_loop import LoopLimits, LoopResult, ModelLoop
from agent.model_run import ModelSession
from agent.nudges import NudgeInbox
from agent.progress import Progress
from agent.relay.meter import RelayLimits
from agent.relay.upstream import Upstream
from agent.settings import AgentSettings
from agent.tools.bash import BashTool
from agent.tools.editor import EditorTool
from agent.tools.policy import CommandPolicy
from agent.tools.protocol import Tool
from agent.tools.toolbox import Toolbox
from agent.workspace import Workspace
from shared.engines import claude_code_cli, unavailable
from shared.hydration.context import HydratedContext
from shared.llm.lookup import find_model, provider_model_id
from shared.llm.prices import ModelPrice
from shared.steering.models import GateTarget
from shared.tasks.models import Task

if TYPE_CHECKING:
    from agent.runner import AgentDeps


class EngineRun:
    """One task's engine behind its relay: the relay meters every call and enforces the limits for every engine."""

    def __init__(self, settings: AgentSettings, deps: AgentDeps, stop_requested: Callable[[], bool],
                 waiter: ApprovalWaiter | None):
        self._settings = settings
        self._deps = deps
        self._stop_requested = stop_requested
        self._waiter = waiter  # None: no approvals store, so no rule holds anything

    async def run(self, task: Task, context: HydratedContext, ws: Workspace, progress: Progress,
                  price: ModelPrice) -> LoopResult:
        """The engine's session behind the task's relay, which meters every call and enforces the limits."""
        s = self._settings
        if context.engine not in ("native", "claude-code"):  # never a silent fall back to another engine
            raise AgentError(f"the {context.engine} engine is not part of this agent runtime")
        entry = find_model(context.model_id)
        # The native loop asks for BGAGENT_MODEL_MAX_TOKENS; Claude Code sizes its own replies (32k tokens and
        # more), held to BGAGENT_CLAUDE_CODE_MAX_TOKENS. Both within the model's own ceiling; the budget clamps both.
        ceiling = s.model_max_tokens if context.engine == "native" else s.claude_code_max_tokens
        limits = RelayLimits(model_id=provider_model_id(context.model_id, s.model_provider),
                             max_turns=context.max_turns, max_budget_usd=context.max_budget_usd,
                             max_output_tokens=min(ceiling, entry.max_output) if entry else ceiling,
                             min_output_tokens=s.min_output_tokens)
        try:
            blocks = await attachment_blocks(self._deps.attachments, context.attachments)
        except (ClientError, BotoCoreError) as exc:
            raise ContextUnavailable(f"could not read the task's attachments: {exc}") from exc
        async with self._upstream(context) as upstream, ModelSession(upstream, limits, price, progress) as session:
            job = EngineJob(model_id=limits.model_id, system_prompt=context.system_prompt,
                            user_prompt=context.user_prompt, attachments=blocks, task_type=context.task_type,
                            mcp_servers=dict(context.mcp_servers or {}),
                            approval=self._rule_check(task, context, session.last_text),
                            edit_approval=self._rule_check(task, context, session.last_text, target="editor"),
                            inbox=NudgeInbox(self._deps.nudges, task.task_id) if self._deps.nudges else None,
                            stop_requested=self._stop_requested)
            if context.engine == "claude-code":
                outcome = await self._claude_code(ws, session.socket, job)
            else:
                outcome = await self._native(task, context, ws, progress, session, limits.max_output_tokens, job)
        return session.result(outcome)

    @contextlib.asynccontextmanager
    async def _upstream(self, context: HydratedContext) -> AsyncIterator[Upstream]:
        """The provider the task's relay forwards to: the deployment's, or the task's registered model endpoint."""
        ref = context.model_endpoint
        if ref is None:
            yield self._deps.upstream
            return
        if self._deps.endpoint_upstream is None:
            raise ModelEndpointUnavailable(f"model endpoint {ref.name!r}: this agent runtime cannot read endpoint keys")
        upstream = await self._deps.endpoint_upstream(ref)
        try:
            yield upstream
        finally:
            await upstream.aclose()

    async def _native(self, task: Task, context: HydratedContext, ws: Workspace, progress: Progress,
                      session: ModelSession, max_tokens: int, job: EngineJob) -> EngineOutcome:
        """The native engine: our loop with a bash and an editor tool, its model calls through the relay."""
        s = self._settings
        policy = CommandPolicy(ws.repo, context.default_branch, home=ws.home, extra_roots=[ws.tmp, ws.home],
                               read_only=context.task_type == "pr_review")
        assert ws.sandbox is not None  # the workspace is opened with its sandbox before the loop runs
        # A gated call's reason is what the model said in its newest reply, as the relay saw it.
        bash = self._gated(BashTool(ws.repo, ws.sandbox, policy, timeout=s.bash_timeout_seconds,
                                    output_limit=s.tool_output_max_chars), task, context, session.last_text)
        editor = self._gated(EditorTool(ws.repo, max_characters=s.view_max_characters,
                                        max_file_bytes=s.editor_max_file_mb << 20), task, context,
                             session.last_text, target="editor")
        toolbox = Toolbox([bash, editor], output_limit=s.tool_output_max_chars)
        entry = find_model(context.model_id)
        window = min(s.context_window_tokens, entry.context_window) if entry else s.context_window_tokens
        client = self._deps.relay_client(session.socket)
        try:
            loop = ModelLoop(client, toolbox, progress, LoopLimits(window, s.elide_at_fraction), workdir=str(ws.repo),
                             max_tokens=max_tokens)
            return await loop.run(job)
        finally:
            await client.aclose()

    async def _claude_code(self, ws: Workspace, socket: Path, job: EngineJob) -> EngineOutcome:
        """The claude-code engine: the Claude Code CLI inside the task's sandbox, the relay's socket bound in."""
        cli = claude_code_cli()
        if cli is None:
            raise EngineNotInstalled(unavailable("claude-code") or "the claude-code engine is not installed")
        assert ws.sandbox is not None  # the workspace is opened with its sandbox before the engine runs
        if ws.sandbox.mode == "off" and os.geteuid() == 0:
            # The CLI refuses to skip its permission prompts as root, and there is no sandbox user to run it as.
            raise EngineNotInstalled("the claude-code engine needs a sandbox when the agent runs as root "
                                     "(BGAGENT_SANDBOX=bwrap or two-user); it is off on this host")
        # Imported here: claude-agent-sdk is the optional `claude-code` extra, absent where only native runs.
        from agent.engines.claude_code import ClaudeCodeEngine, ClaudeCodeSettings

        return await ClaudeCodeEngine(ws.sandbox, socket, ClaudeCodeSettings.from_agent(self._settings, cli)).run(job)

    def _rule_check(self, task: Task, context: HydratedContext, reason: Callable[[], str], *,
                       target: GateTarget = "bash") -> RuleCheck | None:
        """The repo's rules for `target` for an engine that runs commands or edits files itself (the native loop
        gates its tools)."""
        waiter = self._waiter
        if waiter is None or not any(target in r.applies_to for r in context.approval_rules):
            return None
        return RuleCheck(context.approval_rules, pre_approved=set(task.pre_approved_rules or ()), waiter=waiter,
                         reason=reason, target=target)

    def _gated(self, tool: Tool, task: Task, context: HydratedContext, reason: Callable[[], str], *,
               target: GateTarget = "bash") -> Tool:
        """`tool` behind the repo's approval rules for `target` (none, or no store: the tool itself)."""
        waiter = self._waiter
        if waiter is None or not any(target in r.applies_to for r in context.approval_rules):
            return tool
        return ApprovalGate(tool, context.approval_rules, pre_approved=set(task.pre_approved_rules or ()),
                            waiter=waiter, reason=reason, target=target)

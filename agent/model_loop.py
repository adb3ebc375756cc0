"""The native engine: call the model through the task's relay, run the tools it asks for, repeat.

The relay enforces the turn cap and the budget (a refused call ends the loop; the runner classifies it from
the meter); the loop only keeps the conversation within the context window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.conversation import Conversation, cached_system, cached_tools
from agent.engines.protocol import EngineJob, EngineOutcome
from agent.errors import Cancelled, ModelAuthFailed, ModelNotServed, ModelRefused, ModelUnavailable
from agent.model_client import ModelClient, ModelReply
from agent.pricing import Usage
from agent.relay.meter import CallRecord
from agent.tools.protocol import Tools
from shared.llm.lifecycle import replacement_for

CUT_OFF_NOTE = "Your reply was cut off at the output token limit. Continue where you left off."


def where_to_change_model(model_id: str) -> str:
    """The remedy of a model the API does not serve: its replacement, and the three places that pick a model."""
    return (f"use {replacement_for(model_id)!r} instead: set model_id on the task (--model), the repository's "
            "model (bgagent repo onboard OWNER/NAME --model ID) or the platform default (BGAGENT_DEFAULT_MODEL_ID)")


@dataclass
class LoopResult:
    """The model part of a run, whatever the engine: how it ended, what the model said last, what it cost."""

    stop: str  # finished, turn_cap, budget, or error
    summary: str
    usage: Usage
    cost_usd: float
    error: str | None = None
    records: list[CallRecord] = field(default_factory=list)  # every metered call, side calls included
    transcript: list[dict[str, Any]] = field(default_factory=list)  # the main model's conversation
    system: list[dict[str, Any]] = field(default_factory=list)  # its system blocks, as the relay saw them
    turns: int = 0
    error_code: str | None = None


class LoopObserver(Protocol):
    """Hears about refused commands (the event trail); must not raise for trail failures."""

    async def command_refused(self, tool: str, tool_input: dict[str, Any], reason: str) -> None: ...


@dataclass(frozen=True)
class LoopLimits:
    """When to start eliding old tool output."""

    context_window_tokens: int = 200_000
    elide_at_fraction: float = 0.75


class ModelLoop:
    """The native engine: drives one conversation to its end, each call through the relay."""

    def __init__(self, model: ModelClient, tools: Tools, observer: LoopObserver, limits: LoopLimits, *,
                 workdir: str, max_tokens: int):
        self._model = model
        self._tools = tools
        self._observer = observer
        self._limits = limits
        self._workdir = workdir
        self._max_tokens = max_tokens  # the relay clamps it to what the budget has left
        self.last_text = ""  # what the model said in its newest reply: the reason of a gated command

    async def run(self, job: EngineJob) -> EngineOutcome:
        """Run until the model stops asking for tools, or a refused or failed call ends the run."""
        system, tools = cached_system(job.system_prompt, self._workdir), cached_tools(self._tools.definitions())
        conversation = Conversation(job.user_prompt, job.attachments)
        summary, last_prompt = "", 0
        while True:
            _check_stop(job)
            for note in await job.inbox.collect() if job.inbox is not None else []:
                conversation.add_note(note)
            if last_prompt > self._limits.context_window_tokens * self._limits.elide_at_fraction:
                conversation.elide_old_tool_results()
            try:
                reply = await self._model.create(model=job.model_id, max_tokens=self._max_tokens, system=system,
                                                 tools=tools, messages=conversation.request_messages())
            except ModelNotServed as exc:
                return EngineOutcome(False, summary, f"{exc}; {where_to_change_model(job.model_id)}",
                                     "MODEL_UNAVAILABLE")
            except (ModelRefused, ModelUnavailable) as exc:
                return EngineOutcome(False, summary, str(exc),
                                     "MODEL_AUTH" if isinstance(exc, ModelAuthFailed) else "MODEL_ERROR")
            last_prompt = reply.usage.prompt_tokens
            calls = self._absorb(reply, conversation)
            summary = self.last_text or summary
            if calls:
                conversation.add_user(await self._run_tools(calls, job))
            elif reply.stop_reason == "max_tokens":
                conversation.add_user([{"type": "text", "text": CUT_OFF_NOTE}])
            else:
                return EngineOutcome(True, summary)

    def _absorb(self, reply: ModelReply, conversation: Conversation) -> list[dict[str, Any]]:
        """Add a reply to the conversation; return its tool calls."""
        conversation.add_assistant(reply.content)
        self.last_text = "\n".join(b["text"] for b in reply.content if b.get("type") == "text" and b["text"].strip())
        return [b for b in reply.content if b.get("type") == "tool_use"]

    async def _run_tools(self, calls: list[dict[str, Any]], job: EngineJob) -> list[dict[str, Any]]:
        results = []
        for call in calls:
            _check_stop(job)
            outcome = await self._tools.call(call["name"], call.get("input") or {})
            if outcome.refusal:
                await self._observer.command_refused(call["name"], call.get("input") or {}, outcome.refusal)
            block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call["id"], "content": outcome.text}
            if outcome.is_error:
                block["is_error"] = True
            results.append(block)
        return results


def _check_stop(job: EngineJob) -> None:
    if job.stop_requested():
        raise Cancelled("the task was stopped")

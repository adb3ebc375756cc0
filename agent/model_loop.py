"""The agent loop: call the model, run the tools it asks for, repeat, within the turn and dollar caps."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Literal, Protocol

from agent.budget import Budget
from agent.conversation import Conversation, cached_system, cached_tools
from agent.errors import Cancelled, ModelAuthFailed, ModelNotServed, ModelRefused, ModelUnavailable
from agent.model_client import ModelClient, ModelReply
from agent.pricing import Usage
from agent.tools.protocol import Tools
from shared.llm.lifecycle import replacement_for

CUT_OFF_NOTE = "Your reply was cut off at the output token limit. Continue where you left off."
StopKind = Literal["finished", "turn_cap", "budget", "model_error", "model_unavailable", "model_auth"]


def where_to_change_model(model_id: str) -> str:
    """The remedy of a model the API does not serve: its replacement, and the three places that pick a model."""
    return (f"use {replacement_for(model_id)!r} instead: set model_id on the task (--model), the repository's "
            "model (bgagent repo onboard OWNER/NAME --model ID) or the platform default (BGAGENT_DEFAULT_MODEL_ID)")


@dataclass(frozen=True)
class TurnRecord:
    """One model call and the tool calls it asked for."""

    turn: int
    tools: list[str]
    usage: Usage
    model_seconds: float
    other_seconds: float  # the agent's own time in this turn: tools, bookkeeping, events


@dataclass
class LoopResult:
    """How the loop ended, what the model said last, and what it cost."""

    stop: StopKind
    summary: str
    usage: Usage
    cost_usd: float
    error: str | None = None
    records: list[TurnRecord] = field(default_factory=list)
    transcript: list[dict[str, Any]] = field(default_factory=list)  # the conversation's messages

    @property
    def turns(self) -> int:
        return len(self.records)


class LoopObserver(Protocol):
    """Hears about progress (the event trail); must not raise for trail failures."""

    async def turn_finished(self, record: TurnRecord, total: Usage, cost_usd: float) -> None: ...

    async def command_refused(self, tool: str, tool_input: dict[str, Any], reason: str) -> None: ...


class Inbox(Protocol):
    """Messages for the model that arrived while it worked (the owner's nudges)."""

    async def collect(self) -> list[str]: ...


@dataclass(frozen=True)
class LoopLimits:
    """The turn cap and when to start eliding old tool output."""

    max_turns: int
    context_window_tokens: int = 200_000
    elide_at_fraction: float = 0.75


class ModelLoop:
    """Drives one conversation to its end; caps are checked before every call, never after."""

    def __init__(self, model: ModelClient, tools: Tools, observer: LoopObserver, budget: Budget,
                 limits: LoopLimits, *, stop_requested: Callable[[], bool], clock: Callable[[], float] = time.monotonic,
                 inbox: Inbox | None = None):
        self._model = model
        self._tools = tools
        self._observer = observer
        self._budget = budget
        self._limits = limits
        self._stop_requested = stop_requested
        self._clock = clock
        self._inbox = inbox
        self.last_text = ""  # what the model said in its newest reply: the reason of a gated command

    def _check_stop(self) -> None:
        if self._stop_requested():
            raise Cancelled("the task was stopped")

    async def run(self, *, model_id: str, system_prompt: str, user_prompt: str, workdir: str,
                  attachments: list[dict[str, Any]] | None = None) -> LoopResult:
        """Run until the model stops asking for tools, or a cap or error ends the run."""
        system, tools = cached_system(system_prompt, workdir), cached_tools(self._tools.definitions())
        conversation = Conversation(user_prompt, attachments)
        result = LoopResult("finished", "", Usage(), 0.0, transcript=conversation.messages)
        while True:
            self._check_stop()
            for note in await self._inbox.collect() if self._inbox is not None else []:
                conversation.add_note(note)
            started = self._clock()
            max_tokens = self._allowance(result, conversation, system, tools)
            if max_tokens is None:
                return result
            try:
                reply = await self._model.create(model=model_id, max_tokens=max_tokens, system=system, tools=tools,
                                                 messages=conversation.request_messages())
            except ModelNotServed as exc:
                return self._ended(result, "model_unavailable", f"{exc}; {where_to_change_model(model_id)}")
            except (ModelRefused, ModelUnavailable) as exc:
                return self._ended(result, "model_auth" if isinstance(exc, ModelAuthFailed) else "model_error",
                                   str(exc))
            model_seconds = self._clock() - started
            calls = self._absorb(reply, result, conversation)
            if calls:
                conversation.add_user(await self._run_tools(calls))
            elif reply.stop_reason == "max_tokens":
                conversation.add_user([{"type": "text", "text": CUT_OFF_NOTE}])
            record = TurnRecord(result.turns + 1, [c["name"] for c in calls], reply.usage, model_seconds,
                                self._clock() - started - model_seconds)
            await self._observer.turn_finished(record, result.usage, result.cost_usd)
            # The agent's own time in the turn includes writing its progress event.
            result.records.append(replace(record, other_seconds=self._clock() - started - model_seconds))
            if not calls and reply.stop_reason != "max_tokens":
                return result

    def _allowance(self, result: LoopResult, conversation: Conversation, system: list[dict[str, Any]],
                   tools: list[dict[str, Any]]) -> int | None:
        """max_tokens for the next call; None (with the result marked) when a cap forbids the call."""
        if result.turns >= self._limits.max_turns:
            self._ended(result, "turn_cap", f"the turn cap of {self._limits.max_turns} was reached before the "
                                            "model finished")
            return None
        last_prompt = result.records[-1].usage.prompt_tokens if result.records else 0
        if last_prompt > self._limits.context_window_tokens * self._limits.elide_at_fraction:
            if conversation.elide_old_tool_results():
                self._budget.invalidate_cache()
        max_tokens = self._budget.max_tokens_for_next(conversation.unsent_chars(system, tools))
        if max_tokens is None:
            self._ended(result, "budget", f"stopped before the next model call, which could cross the budget of "
                                          f"${self._budget.limit_usd:.2f} (spent ${self._budget.spent_usd:.4f})")
        return max_tokens

    def _absorb(self, reply: ModelReply, result: LoopResult, conversation: Conversation) -> list[dict[str, Any]]:
        """Account for a reply and add it to the conversation; return its tool calls."""
        cost = self._budget.record(reply.usage)
        result.usage, result.cost_usd = result.usage + reply.usage, result.cost_usd + cost
        conversation.add_assistant(reply.content)
        text = "\n".join(b["text"] for b in reply.content if b.get("type") == "text" and b["text"].strip())
        result.summary, self.last_text = text or result.summary, text
        return [b for b in reply.content if b.get("type") == "tool_use"]

    async def _run_tools(self, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results = []
        for call in calls:
            self._check_stop()
            outcome = await self._tools.call(call["name"], call.get("input") or {})
            if outcome.refusal:
                await self._observer.command_refused(call["name"], call.get("input") or {}, outcome.refusal)
            block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call["id"], "content": outcome.text}
            if outcome.is_error:
                block["is_error"] = True
            results.append(block)
        return results

    @staticmethod
    def _ended(result: LoopResult, stop: StopKind, error: str) -> LoopResult:
        result.stop, result.error = stop, error
        return result

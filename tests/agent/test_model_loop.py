"""The native loop with an in-memory model behind the relay's meter: caps hold before the call, tools run, stops
are prompt."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from agent.engines.protocol import EngineJob, EngineOutcome
from agent.errors import Cancelled, ModelNotServed, ModelRefused
from agent.model_client import ModelReply
from agent.model_loop import LoopLimits, ModelLoop
from agent.pricing import ModelPrice, Usage
from agent.relay.meter import CallRefused, Meter, PriceBook, RelayLimits
from agent.tools.protocol import ToolResult

SONNET = ModelPrice(input=3.0, output=15.0)
PER_CALL = Usage(input=200, output=100, cache_read=5_000, cache_write=1_000)  # $0.00585 at Sonnet prices


@dataclass
class ScriptedModel:
    """A ModelClient that answers with the scripted replies, then with tool calls forever.

    Tool-call replies report the usage a real API would: the prompt (~4 characters a token)
    is read from the cache up to what the previous call cached, the rest is written, and the
    reply uses every output token it was allowed (the worst case for the budget).
    """

    replies: list[Any] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    cached: int = 0

    async def create(self, **request: Any) -> ModelReply:
        self.calls.append(request)
        if self.replies:
            reply = self.replies.pop(0)
            if isinstance(reply, Exception):
                raise reply
            return reply
        prompt = len(json.dumps([request["system"], request["tools"], request["messages"]])) // 4 + 1_500
        usage = Usage(input=0, output=request["max_tokens"], cache_read=self.cached,
                      cache_write=prompt - self.cached)
        self.cached = prompt
        call = {"type": "tool_use", "id": f"toolu_{len(self.calls)}", "name": "bash", "input": {"command": "ls"}}
        return ModelReply([{"type": "text", "text": "working"}, call], "tool_use", usage)

    async def aclose(self) -> None:
        return None


@dataclass
class MeteredModel:
    """The relay without its HTTP: each call is admitted (and clamped) by a real Meter, refused as the relay's
    400 would be, and settled from the reply's usage."""

    inner: ScriptedModel
    meter: Meter

    async def create(self, **request: Any) -> ModelReply:
        try:
            call = self.meter.admit(request)
        except CallRefused as refused:
            raise ModelRefused(f"the model API refused the request (400 invalid_request_error: {refused})",
                               400) from refused
        reply = await self.inner.create(**call.body)
        self.meter.settle(call, reply.usage, tools=[], stop_reason=reply.stop_reason)
        return reply

    async def aclose(self) -> None:
        return None


@dataclass
class EchoTools:
    refuse: bool = False
    runs: int = 0

    def definitions(self) -> list[dict[str, Any]]:
        return [{"type": "bash_20250124", "name": "bash"}]

    async def call(self, name: str, tool_input: dict[str, Any]) -> ToolResult:
        self.runs += 1
        if self.refuse:
            return ToolResult("refused", is_error=True, refusal="no")
        return ToolResult(f"ran {tool_input['command']}")


@dataclass
class Recorder:
    refused: list[str] = field(default_factory=list)

    async def command_refused(self, tool: str, tool_input: dict[str, Any], reason: str) -> None:
        self.refused.append(reason)


def make_loop(model: ScriptedModel, *, max_turns: int = 100, limit: float | None = None,
              tools: EchoTools | None = None, recorder: Recorder | None = None,
              limits: LoopLimits | None = None) -> tuple[ModelLoop, Meter]:
    meter = Meter(RelayLimits("claude-sonnet-5-5", max_turns, limit, max_output_tokens=4096, min_output_tokens=100),
                  PriceBook("claude-sonnet-5-5", SONNET))
    loop = ModelLoop(MeteredModel(model, meter), tools or EchoTools(), recorder or Recorder(),
                     limits or LoopLimits(), workdir="/w", max_tokens=4096)
    return loop, meter


def job(model_id: str = "claude-sonnet-5-5", **kw: Any) -> EngineJob:
    """A job as the runner builds it; `stop` is a one-element list the test flips."""
    stop = kw.pop("stop", [False])
    values: dict[str, Any] = dict(model_id=model_id, system_prompt="sys", user_prompt="do it", attachments=[],
                                  task_type="new_task", mcp_servers={}, approval=None, inbox=None,
                                  stop_requested=lambda: stop[0])
    return EngineJob(**{**values, **kw})


async def run(loop: ModelLoop, model_id: str = "claude-sonnet-5-5", **kw: Any) -> EngineOutcome:
    return await loop.run(job(model_id, **kw))


async def test_the_turn_cap_is_never_exceeded() -> None:
    for cap in (1, 3, 7):
        model = ScriptedModel()
        loop, meter = make_loop(model, max_turns=cap)
        outcome = await run(loop)
        assert len(model.calls) == cap == meter.turns
        assert not outcome.finished and meter.stopped == "turn_cap"
        assert f"turn cap of {cap}" in (meter.stop_message or "") and "bgagent:" in (outcome.error or "")


async def test_the_budget_stops_before_the_call_that_would_cross_it() -> None:
    for limit in (0.05, 0.2, 1.0):
        model = ScriptedModel()
        loop, meter = make_loop(model, limit=limit)
        outcome = await run(loop)
        assert not outcome.finished and meter.stopped == "budget"
        assert f"budget of ${limit:.2f}" in (meter.stop_message or "")
        # The model used every output token it was allowed, and still the cap held.
        assert 0 < meter.cost_usd <= limit
        assert meter.turns == len(model.calls) >= (1 if limit < 0.5 else 5)
        # It stopped because the money left could not buy a minimal reply on top of the next prompt.
        assert limit - meter.cost_usd < 0.02


async def test_a_tiny_budget_makes_no_call_at_all() -> None:
    model = ScriptedModel()
    loop, meter = make_loop(model, limit=0.001)
    await run(loop)
    assert model.calls == [] and meter.stopped == "budget" and meter.cost_usd == 0


async def test_the_run_ends_when_the_model_stops_asking_for_tools() -> None:
    model = ScriptedModel([ModelReply([{"type": "text", "text": "All done."}], "end_turn", PER_CALL)])
    loop, meter = make_loop(model)
    outcome = await run(loop)
    assert outcome.finished and outcome.summary == "All done." and meter.turns == 1
    assert meter.usage == PER_CALL and outcome.error is None


async def test_a_cut_off_reply_is_continued() -> None:
    model = ScriptedModel([ModelReply([{"type": "text", "text": "part"}], "max_tokens", PER_CALL),
                           ModelReply([{"type": "text", "text": "rest"}], "end_turn", PER_CALL)])
    loop, meter = make_loop(model)
    outcome = await run(loop)
    assert meter.turns == 2 and outcome.finished
    assert "cut off" in model.calls[1]["messages"][-1]["content"][0]["text"]


async def test_a_model_refusal_ends_the_loop_with_its_message() -> None:
    model = ScriptedModel([ModelRefused("the model API refused the request (400 invalid_request_error: nope)", 400)])
    loop, meter = make_loop(model)
    outcome = await run(loop)
    assert outcome.error_code == "MODEL_ERROR" and "nope" in (outcome.error or "") and not outcome.finished
    assert meter.stopped is None


async def test_a_model_the_api_does_not_serve_ends_the_loop_naming_its_replacement() -> None:
    model = ScriptedModel([ModelNotServed("the model API does not serve model 'claude-opus-4-5' "
                                          "(404 not_found_error: model: claude-opus-4-5)", 404)])
    outcome = await run(make_loop(model)[0], model_id="claude-opus-4-5")
    assert outcome.error_code == "MODEL_UNAVAILABLE" and not outcome.finished
    assert "use 'claude-opus-5-5' instead" in (outcome.error or "")
    assert "bgagent repo onboard" in (outcome.error or "") and "BGAGENT_DEFAULT_MODEL_ID" in (outcome.error or "")


async def test_tool_results_follow_the_calls_and_refusals_are_reported() -> None:
    model = ScriptedModel()
    tools, recorder = EchoTools(refuse=True), Recorder()
    loop, _ = make_loop(model, max_turns=2, tools=tools, recorder=recorder)
    await run(loop)
    second = model.calls[1]["messages"]
    result_block = second[-1]["content"][0]
    assert result_block["type"] == "tool_result" and result_block["tool_use_id"] == "toolu_1"
    assert result_block["is_error"] is True
    assert recorder.refused == ["no", "no"]


async def test_only_the_newest_user_block_carries_the_rolling_cache_breakpoint() -> None:
    model = ScriptedModel()
    await run(make_loop(model, max_turns=3)[0])
    for call in model.calls:
        marked = [b for m in call["messages"] for b in m["content"] if "cache_control" in b]
        assert marked == [call["messages"][-1]["content"][-1]]
        assert "cache_control" in call["system"][0] and "cache_control" in call["tools"][-1]


async def test_a_stop_request_ends_the_loop_within_one_tool_call() -> None:
    stop = [False]
    tools = EchoTools()
    model = ScriptedModel()
    loop, _ = make_loop(model, tools=tools)
    original = tools.call

    async def call_then_stop(name: str, tool_input: dict[str, Any]) -> ToolResult:
        stop[0] = True
        return await original(name, tool_input)

    tools.call = call_then_stop  # type: ignore[method-assign]
    try:
        await run(loop, stop=stop)
    except Cancelled:
        pass
    else:
        raise AssertionError("the loop should have stopped")
    assert len(model.calls) == 1 and tools.runs == 1


async def test_old_tool_output_is_elided_as_the_conversation_nears_the_window() -> None:
    model = ScriptedModel()
    loop, _ = make_loop(model, max_turns=8, limits=LoopLimits(context_window_tokens=2_000, elide_at_fraction=0.5))
    await run(loop)
    last = model.calls[-1]["messages"]
    results = [b["content"] for m in last for b in m["content"] if b.get("type") == "tool_result"]
    assert results[0].startswith("[older tool output elided") and results[-1] == "ran ls"

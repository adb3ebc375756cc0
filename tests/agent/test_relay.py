"""The model relay with the real anthropic client over its unix socket, in front of the streaming fake API."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest

from agent.errors import ModelAuthFailed
from agent.model_client import AnthropicModelClient
from agent.pricing import MTOK, ModelPrice, Usage
from agent.relay.client import RELAY_API_KEY, relay_sdk
from agent.relay.meter import CallRecord, Meter, PriceBook, RelayLimits
from agent.relay.server import ModelRelay
from agent.relay.upstream import AnthropicUpstream, BedrockUpstream
from tests.doubles import FakeAnthropic, Turn
from tests.doubles.scenarios import FAKE_LOOP, FAKE_MODEL_PRICE, install_default_scenarios

REAL_KEY = "sk-ant-relay-test-real-key"
PRICE = ModelPrice(**FAKE_MODEL_PRICE)
SIDE_MODEL = "claude-haiku-5-5"  # priced by the catalog, like the CLI's small side calls
SYSTEM = [{"type": "text", "text": "You are a careful coding agent. " * 20}]
TOOLS = [{"name": "bash", "description": "run a command", "input_schema": {"type": "object"}}]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeAnthropic, str]]:
    fake = install_default_scenarios(FakeAnthropic(api_key=REAL_KEY))
    fake.add_scenario(SIDE_MODEL, [Turn.text("A short title")])
    fake.add_scenario("unpriced-model", [Turn.text("never")])
    fake.add_scenario("broken-plain", [Turn.broken("garbled")])
    fake.add_scenario("broken-stream", [Turn.broken("cut")])
    fake.add_scenario("overloaded-stream", [Turn.broken("overloaded")])
    fake.add_scenario("thinking", [Turn.text("thought")])
    with fake.serve() as url:
        yield fake, url


@dataclass
class Relayed:
    fake: FakeAnthropic
    meter: Meter
    relay: ModelRelay
    sdk: anthropic.AsyncAnthropic
    socket: Path
    records: list[CallRecord] = field(default_factory=list)

    async def ask(self, model: str = FAKE_LOOP, *, max_tokens: int = 1024, stream: bool = False,
                  messages: list[dict[str, Any]] | None = None, **extra: Any) -> Any:
        request = {"model": model, "max_tokens": max_tokens, "system": SYSTEM, "tools": TOOLS,
                   "messages": messages or [{"role": "user", "content": "loop please"}], **extra}
        if stream:
            async with self.sdk.messages.stream(**request) as events:
                return await events.get_final_message()
        return await self.sdk.messages.create(**request)


async def _relayed(served: tuple[FakeAnthropic, str], listener: Any = None, key: str | None = REAL_KEY,
                   **limits: Any) -> AsyncIterator[Relayed]:
    fake, url = served
    fake.reset()
    values: dict[str, Any] = dict(model_id=FAKE_LOOP, max_turns=50, max_budget_usd=None, max_output_tokens=4096,
                                  min_output_tokens=100)
    limited = RelayLimits(**{**values, **limits})
    meter = Meter(limited, PriceBook(limited.model_id, PRICE))
    records: list[CallRecord] = []

    async def on_call(record: CallRecord) -> None:
        records.append(record)
        if listener is not None:
            await listener(record)

    upstream = AnthropicUpstream(url, key, timeout=30)
    relay = ModelRelay(meter, upstream, on_call=on_call)
    folder = Path(tempfile.mkdtemp(prefix="relay-"))  # a unix socket path has at most 107 bytes
    socket = folder / "relay.sock"
    await relay.start(socket)
    sdk = relay_sdk(socket, max_retries=0)
    try:
        yield Relayed(fake, meter, relay, sdk, socket, records)
    finally:
        await sdk.close()
        await relay.close()
        await upstream.aclose()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def relayed(served: tuple[FakeAnthropic, str]) -> AsyncIterator[Relayed]:
    async for r in _relayed(served):
        yield r


async def _raw(socket: Path, method: str, path: str, **kw: Any) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=str(socket)), base_url="http://relay") as c:
        return await c.request(method, path, **kw)


def _usage(u: Any) -> Usage:
    return Usage(u.input_tokens, u.output_tokens, u.cache_read_input_tokens or 0, u.cache_creation_input_tokens or 0)


@pytest.mark.parametrize("stream", [False, True])
async def test_every_call_is_metered_exactly_from_its_reply(relayed: Relayed, stream: bool) -> None:
    first = await relayed.ask(stream=stream)
    second = await relayed.ask(stream=stream, system=[{**SYSTEM[0], "cache_control": {"type": "ephemeral"}}])
    assert first.stop_reason == "tool_use" and first.content[-1].input == {"command": "echo turn"}
    total = _usage(first.usage) + _usage(second.usage)
    assert total.output > 0 and relayed.meter.usage == total and relayed.meter.turns == 2
    assert relayed.meter.cost_usd == pytest.approx(_usage(first.usage).cost(PRICE) + _usage(second.usage).cost(PRICE))
    assert [(r.turn, r.is_turn, r.tools, r.stop_reason) for r in relayed.records] == \
        [(1, True, ["bash"], "tool_use"), (2, True, ["bash"], "tool_use")]
    assert relayed.records[-1].total_usd == pytest.approx(relayed.meter.cost_usd)
    system, messages = relayed.relay.transcript()
    assert system == SYSTEM and messages[-1]["role"] == "assistant"
    assert messages[-1]["content"][-1] == {"type": "tool_use", "id": second.content[-1].id, "name": "bash",
                                           "input": {"command": "echo turn"}}


async def test_max_tokens_is_clamped_to_the_ceiling_and_to_what_the_budget_buys(
        served: tuple[FakeAnthropic, str]) -> None:
    async for r in _relayed(served, max_budget_usd=0.05, max_output_tokens=2048):
        await r.ask(max_tokens=100_000, stream=True)
        sent = r.fake.requests_for(FAKE_LOOP)[-1]["max_tokens"]
        assert sent == 2048
    async for r in _relayed(served, max_budget_usd=0.02):
        await r.ask(max_tokens=4096)
        sent = r.fake.requests_for(FAKE_LOOP)[-1]["max_tokens"]
        # $0.02 minus the prompt's bound buys fewer than 4096 output tokens at $15/MTok.
        assert 100 <= sent < 0.02 * MTOK / 15 < 4096


async def test_the_thinking_budget_is_kept_below_the_clamped_max_tokens(served: tuple[FakeAnthropic, str]) -> None:
    async for r in _relayed(served, model_id="thinking", max_output_tokens=4000):
        await r.ask(model="thinking", max_tokens=64_000, stream=True,
                    thinking={"type": "enabled", "budget_tokens": 32_000})
        [sent] = r.fake.requests_for("thinking")
        assert sent["max_tokens"] == 4000 and sent["thinking"]["budget_tokens"] == 3999
    async for r in _relayed(served, model_id="thinking", max_output_tokens=1024):
        with pytest.raises(anthropic.BadRequestError) as info:
            await r.ask(model="thinking", max_tokens=8000, thinking={"type": "enabled", "budget_tokens": 4000})
        assert r.meter.stopped == "budget" and r.fake.requests_for("thinking") == []
        assert "bgagent: stopped before the next model call" in info.value.message


async def test_the_budget_refuses_the_call_that_could_cross_it(served: tuple[FakeAnthropic, str]) -> None:
    for limit in (0.02, 0.05):
        async for r in _relayed(served, max_budget_usd=limit):
            messages: list[dict[str, Any]] = [{"role": "user", "content": f"spend {limit}"}]
            with pytest.raises(anthropic.BadRequestError) as info:
                for _ in range(100):
                    reply = await r.ask(messages=messages, stream=len(messages) % 4 == 1)
                    messages += [{"role": "assistant", "content": [b.model_dump() for b in reply.content]},
                                 {"role": "user", "content": [{"type": "tool_result", "content": "turn",
                                                               "tool_use_id": reply.content[-1].id}]}]
            assert info.value.status_code == 400 and info.value.body["error"]["type"] == "invalid_request_error"
            assert info.value.message.startswith(f"400 bgagent: stopped before the next model call, which could "
                                                 f"cross the budget of ${limit:.2f}")
            calls = len(r.fake.requests_for(FAKE_LOOP))
            assert r.meter.stopped == "budget" and r.meter.turns == calls >= 2
            assert 0 < r.meter.cost_usd <= limit and f"budget of ${limit:.2f}" in (r.meter.stop_message or "")


async def test_the_turn_cap_refuses_the_call_after_the_last_turn(served: tuple[FakeAnthropic, str]) -> None:
    async for r in _relayed(served, max_turns=2):
        await r.ask()
        await r.ask(stream=True)
        with pytest.raises(anthropic.BadRequestError) as info:
            await r.ask()
        assert "turn cap of 2" in info.value.message and r.meter.stopped == "turn_cap"
        assert len(r.fake.requests_for(FAKE_LOOP)) == 2 == r.meter.turns


async def test_a_side_models_call_is_metered_but_not_a_turn(served: tuple[FakeAnthropic, str]) -> None:
    async for r in _relayed(served, max_turns=1):
        await r.ask()
        reply = await r.ask(model=SIDE_MODEL, max_tokens=32)
        assert reply.content[0].text == "A short title"
        side = r.records[-1]
        assert not side.is_turn and side.turn == 1 and r.meter.turns == 1 and side.cost_usd > 0
        assert r.meter.cost_usd == pytest.approx(r.records[0].cost_usd + side.cost_usd)
        system, _ = r.relay.transcript()
        assert system == SYSTEM  # the transcript stays the main model's conversation


async def test_an_error_reply_is_passed_on_and_neither_charged_nor_a_turn(served: tuple[FakeAnthropic, str]) -> None:
    async for r in _relayed(served, model_id="fake-429-then-edit"):
        with pytest.raises(anthropic.RateLimitError) as info:
            await r.ask(model="fake-429-then-edit")
        assert info.value.response.headers["retry-after"] == "0"
        assert r.meter.cost_usd == 0 and r.meter.turns == 0 and r.records == []
        await r.ask(model="fake-429-then-edit")
        assert r.meter.turns == 1 and r.meter.cost_usd > 0


async def test_unknown_paths_are_not_served(relayed: Relayed) -> None:
    for method, path in (("GET", "/v1/models"), ("POST", "/v1/complete"), ("POST", "/v1/messages/batches"),
                         ("GET", "/v1/messages")):
        response = await _raw(relayed.socket, method, path, json={})
        assert response.status_code == 404, path
        assert response.json()["type"] == "error" and response.json()["error"]["type"] == "not_found_error"
    assert relayed.fake.requests == []
    counted = await _raw(relayed.socket, "POST", "/v1/messages/count_tokens?beta=true",
                         headers={"anthropic-version": "2023-06-01"},
                         json={"model": FAKE_LOOP, "messages": [{"role": "user", "content": "hi"}]})
    assert counted.status_code == 200 and counted.json()["input_tokens"] > 0 and relayed.meter.cost_usd == 0


async def test_an_unpriced_model_is_refused_naming_it(relayed: Relayed) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        await relayed.ask(model="unpriced-model")
    assert "'unpriced-model' has no price" in info.value.message and relayed.fake.requests == []
    assert relayed.meter.stopped is None


async def test_after_close_every_call_is_refused(relayed: Relayed) -> None:
    await relayed.ask()
    relayed.meter.close("the task was cancelled")
    with pytest.raises(anthropic.BadRequestError) as info:
        await relayed.ask()
    assert "the task has ended (the task was cancelled)" in info.value.message
    assert relayed.meter.stopped == "closed" and len(relayed.fake.requests) == 1


async def test_the_clients_key_stays_behind_and_the_real_key_never_comes_back(relayed: Relayed) -> None:
    headers = {"anthropic-version": "2023-06-01", "authorization": "Bearer sandbox-token",
               "x-api-key": RELAY_API_KEY, "cookie": "a=b", "x-forwarded-for": "1.2.3.4",
               "anthropic-beta": "context-management-2025-06-27"}
    body = {"model": FAKE_LOOP, "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}], "stream": True,
            "metadata": {"user_id": "u"}}
    response = await _raw(relayed.socket, "POST", "/v1/messages?beta=true", headers=headers, json=body)
    assert response.status_code == 200 and "message_stop" in response.text
    await relayed.ask()
    for request in relayed.fake.requests:
        sent = request["headers"]
        assert sent["x-api-key"] == REAL_KEY and "authorization" not in sent and "cookie" not in sent
        assert RELAY_API_KEY not in json.dumps(sent) and "x-forwarded-for" not in sent
    assert relayed.fake.requests[0]["headers"]["anthropic-beta"] == "context-management-2025-06-27"
    assert REAL_KEY not in response.text and REAL_KEY not in json.dumps(dict(response.headers))


@pytest.mark.parametrize(("model", "stream", "error"), [
    ("broken-plain", False, anthropic.InternalServerError),
    ("broken-stream", True, anthropic.APIStatusError),
    ("overloaded-stream", True, anthropic.APIStatusError),
])
async def test_a_reply_without_readable_usage_fails_and_is_charged_its_worst_case(
        served: tuple[FakeAnthropic, str], model: str, stream: bool, error: type[Exception]) -> None:
    async for r in _relayed(served, model_id=model):
        with pytest.raises(error) as info:
            await r.ask(model=model, stream=stream, max_tokens=2000)
        # The provider's own mid-stream error is passed on as it came; otherwise the relay says what happened.
        assert ("overloaded_error" if model == "overloaded-stream" else "could not be read") in str(info.value)
        [record] = r.records
        # Never uncounted: at least every output token it was allowed, at the output price.
        assert record.cost_usd >= 2000 * PRICE.output / MTOK and r.meter.cost_usd == record.cost_usd
        assert r.meter.turns == 1


async def test_a_body_over_the_limit_is_refused_with_413(relayed: Relayed) -> None:
    big = {"model": FAKE_LOOP, "max_tokens": 10, "messages": [{"role": "user", "content": "x" * (33 << 20)}]}
    response = await _raw(relayed.socket, "POST", "/v1/messages", content=json.dumps(big).encode(),
                          headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["type"] == "request_too_large"
    head = await _raw(relayed.socket, "POST", "/v1/messages", json={}, headers={"x-filler": "y" * (65 << 10)})
    assert head.status_code == 413 and "head is too large" in head.json()["error"]["message"]
    assert relayed.fake.requests == []


async def test_concurrent_calls_cannot_cross_the_budget_together(served: tuple[FakeAnthropic, str]) -> None:
    async for r in _relayed(served, max_budget_usd=0.03, max_turns=100):
        results = await asyncio.gather(*(r.ask(messages=[{"role": "user", "content": f"parallel {n}"}],
                                               max_tokens=4096) for n in range(12)), return_exceptions=True)
        refused = [x for x in results if isinstance(x, anthropic.BadRequestError)]
        assert refused and r.meter.cost_usd <= 0.03


async def test_a_malformed_request_is_answered_and_the_connection_closed(relayed: Relayed) -> None:
    reader, writer = await asyncio.open_unix_connection(str(relayed.socket))
    writer.write(b"POST /v1/messages\r\ncontent-length: 2\r\n\r\n{}")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)  # read to the end: the relay closes the connection
    writer.close()
    assert answer.startswith(b"HTTP/1.1 400 ") and b"malformed request line" in answer
    assert relayed.fake.requests == []


async def test_bedrock_serves_no_token_counting_and_needs_no_network_to_say_so() -> None:
    upstream = BedrockUpstream("us-east-1", timeout=5)
    try:
        reply = await upstream.send("/v1/messages/count_tokens", "beta=true", {}, {"model": "m", "messages": []})
        body = b"".join([chunk async for chunk in reply.chunks])
    finally:
        await upstream.aclose()
    assert reply.status == 404 and json.loads(body)["error"]["type"] == "not_found_error"


async def test_a_failing_listener_never_fails_a_paid_call(served: tuple[FakeAnthropic, str]) -> None:
    async def broken(record: CallRecord) -> None:
        raise RuntimeError("the event store is down")  # the runner's listener writes events; here it fails

    async for r in _relayed(served, broken):
        reply = await r.ask(stream=True)
        assert reply.stop_reason == "tool_use" and r.meter.turns == 1 and r.meter.cost_usd > 0


async def test_without_a_key_the_relay_answers_model_auth_itself(served: tuple[FakeAnthropic, str]) -> None:
    async for relayed in _relayed(served, key=None):
        client = AnthropicModelClient(relayed.sdk, call_timeout=5, call_deadline=10, attempts=3, max_wait=0.05)
        with pytest.raises(ModelAuthFailed, match="no model credentials are configured.*ANTHROPIC_API_KEY"):
            await client.create(model=FAKE_LOOP, max_tokens=200, system=SYSTEM, tools=[],
                                messages=[{"role": "user", "content": "hi"}])
        assert relayed.fake.requests_for(FAKE_LOOP) == [] and relayed.meter.cost_usd == 0

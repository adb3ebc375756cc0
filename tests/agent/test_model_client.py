"""The SDK adapter against FakeAnthropic on loopback: retries with a ceiling, 4xx refusals, timeouts."""

from __future__ import annotations

import time
from typing import Iterator

import anthropic
import pytest

from agent.errors import ModelAuthFailed, ModelNotServed, ModelRefused, ModelUnavailable
from agent.model_client import AnthropicModelClient
from tests.doubles import FakeAnthropic, Turn

REQUEST = dict(max_tokens=100, system=[{"type": "text", "text": "sys"}], tools=[],
               messages=[{"role": "user", "content": [{"type": "text", "text": "hi"}]}])


@pytest.fixture
def fake() -> Iterator[tuple[FakeAnthropic, str]]:
    fake = FakeAnthropic()
    fake.add_scenario("always-overloaded", [Turn.error(529, "Overloaded", times=None)])
    fake.add_scenario("refuses", [Turn.error(403, "not allowed", times=None)])
    fake.add_scenario("flaky", [Turn.error(500, "boom", times=2), Turn.text("ok")])
    fake.add_scenario("gone", [Turn.error(404, "model: gone", times=None)])
    fake.add_scenario("retired", [Turn.error(400, "The model 'retired' is deprecated and has reached its end of "
                                                  "life", times=None)])
    fake.add_scenario("too-long", [Turn.error(400, "prompt is too long", times=None)])
    with fake.serve() as url:
        yield fake, url


def client(url: str, *, sdk_retries: int = 0, attempts: int = 3, deadline: float = 10) -> AnthropicModelClient:
    sdk = anthropic.AsyncAnthropic(api_key="sk-ant-fake", base_url=url, max_retries=sdk_retries)
    return AnthropicModelClient(sdk, call_timeout=5, call_deadline=deadline, attempts=attempts, max_wait=0.05,
                                initial_wait=0.01)


async def test_server_errors_are_retried_then_succeed(fake: tuple[FakeAnthropic, str]) -> None:
    reply = await client(fake[1]).create(model="flaky", **REQUEST)
    assert reply.content == [{"type": "text", "text": "ok"}] and reply.stop_reason == "end_turn"
    assert len(fake[0].requests_for("flaky")) == 3


async def test_retries_stop_at_the_ceiling_with_a_clear_error(fake: tuple[FakeAnthropic, str]) -> None:
    started = time.monotonic()
    with pytest.raises(ModelUnavailable, match="after 3 attempts: 529 overloaded_error: Overloaded"):
        await client(fake[1], sdk_retries=1).create(model="always-overloaded", **REQUEST)
    assert len(fake[0].requests_for("always-overloaded")) == 6  # 3 attempts x (1 + 1 SDK retry)
    assert time.monotonic() - started < 10


async def test_a_4xx_is_not_retried(fake: tuple[FakeAnthropic, str]) -> None:
    with pytest.raises(ModelRefused, match="403 permission_error: not allowed") as caught:
        await client(fake[1], sdk_retries=2).create(model="refuses", **REQUEST)
    assert caught.value.status == 403 and len(fake[0].requests_for("refuses")) == 1


@pytest.mark.parametrize("model, said", [("gone", "404 not_found_error: model: gone"),
                                         ("retired", "400 invalid_request_error: The model 'retired' is deprecated")])
async def test_a_model_the_api_does_not_serve_is_its_own_refusal(fake: tuple[FakeAnthropic, str], model: str,
                                                                  said: str) -> None:
    with pytest.raises(ModelNotServed, match=f"does not serve model '{model}'") as caught:
        await client(fake[1], sdk_retries=2).create(model=model, **REQUEST)
    assert said in str(caught.value) and len(fake[0].requests_for(model)) == 1


async def test_any_other_400_stays_a_plain_refusal(fake: tuple[FakeAnthropic, str]) -> None:
    with pytest.raises(ModelRefused) as caught:
        await client(fake[1]).create(model="too-long", **REQUEST)
    assert not isinstance(caught.value, ModelNotServed)


async def test_a_call_that_never_answers_times_out() -> None:
    import asyncio

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    started = time.monotonic()
    async with server:
        with pytest.raises(ModelUnavailable, match="no answer within"):
            await client(f"http://127.0.0.1:{port}", attempts=2, deadline=0.3).create(model="x", **REQUEST)
    assert time.monotonic() - started < 5


async def test_missing_credentials_are_a_readable_refusal(fake: tuple[FakeAnthropic, str]) -> None:
    sdk = anthropic.AsyncAnthropic(api_key="wrong-key", base_url=fake[1], max_retries=0)
    model = AnthropicModelClient(sdk, call_timeout=5, call_deadline=10, attempts=3, max_wait=0.05)
    with pytest.raises(ModelRefused, match="401 authentication_error"):
        await model.create(model="flaky", **REQUEST)


async def test_a_rejected_key_is_model_auth_with_the_remedy(fake: tuple[FakeAnthropic, str]) -> None:
    sdk = anthropic.AsyncAnthropic(api_key="wrong-key", base_url=fake[1], max_retries=2)
    model = AnthropicModelClient(sdk, call_timeout=5, call_deadline=10, attempts=3, max_wait=0.05)
    with pytest.raises(ModelAuthFailed, match="rejected the credentials.*ANTHROPIC_API_KEY") as caught:
        await model.create(model="flaky", **REQUEST)
    assert caught.value.status == 401 and len(fake[0].requests_for("flaky")) == 1  # never retried

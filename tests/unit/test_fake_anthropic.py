"""Tests of the FakeAnthropic double, driven with the real anthropic SDK over loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest

from tests.doubles import FakeAnthropic, Turn
from tests.doubles.scenarios import (
    EDIT_FINAL_TEXT,
    FAKE_429_THEN_EDIT,
    FAKE_EDIT,
    FAKE_ERROR,
    FAKE_LOOP,
    FAKE_NOOP,
    install_default_scenarios,
)

KEY = "sk-ant-fake"
SYSTEM = [{"type": "text", "text": "You are a careful coding agent. " * 40, "cache_control": {"type": "ephemeral"}}]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeAnthropic, str]]:
    fake = install_default_scenarios(FakeAnthropic())
    with fake.serve() as url:
        yield fake, url


@pytest.fixture
def fake(served: tuple[FakeAnthropic, str]) -> FakeAnthropic:
    served[0].reset()
    return served[0]


@pytest.fixture
def client(served: tuple[FakeAnthropic, str]) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=served[1], api_key=KEY, max_retries=0) as sdk:
        yield sdk


def _ask(client: anthropic.Anthropic, model: str, messages: list[dict[str, Any]], **kw: Any) -> Any:
    return client.messages.create(model=model, max_tokens=1024, system=SYSTEM, messages=messages, **kw)


def _feed_back(messages: list[dict[str, Any]], response: Any) -> None:
    """Append the assistant reply and a tool_result for each tool_use, like an agent loop."""
    messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in response.content]})
    results = [{"type": "tool_result", "tool_use_id": b.id, "content": "ok"}
               for b in response.content if b.type == "tool_use"]
    messages.append({"role": "user", "content": results or "continue"})


def test_fake_edit_plays_turn_by_turn(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Add notes to the repo"}]
    calls = []
    for _ in range(5):
        response = _ask(client, FAKE_EDIT, messages)
        assert response.model == FAKE_EDIT and response.id.startswith("msg_")
        tools = [b for b in response.content if b.type == "tool_use"]
        calls.append((response.stop_reason, [(t.name, t.input) for t in tools]))
        if tools:
            assert response.content[0].type == "text" and tools[0].id.startswith("toolu_")
        _feed_back(messages, response)
    assert [c[0] for c in calls] == ["tool_use"] * 4 + ["end_turn"]
    assert calls[0][1] == [("bash", {"command": "ls -la && git log --oneline -n 5"})]
    assert calls[1][1] == [("str_replace_based_edit_tool", {"command": "view", "path": "README.md"})]
    assert calls[2][1][0][1]["command"] == "create" and calls[2][1][0][1]["path"] == "NOTES.md"
    assert response.content[0].text == EDIT_FINAL_TEXT
    # Past the end of the script the model just finishes.
    assert _ask(client, FAKE_EDIT, messages).content[0].text == "Done."
    assert len(fake.requests_for(FAKE_EDIT)) == 6 and fake.requests_for(FAKE_NOOP) == []


def test_prompt_cache_usage(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    messages = [{"role": "user", "content": "cache me"}]
    first, second = _ask(client, FAKE_NOOP, messages).usage, _ask(client, FAKE_NOOP, messages).usage
    assert first.cache_creation_input_tokens > 200 and first.cache_read_input_tokens == 0
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert second.cache_creation_input_tokens == 0
    assert second.input_tokens == first.input_tokens > 0 and first.output_tokens > 0
    # Without any cache_control nothing is cached.
    plain = client.messages.create(model=FAKE_NOOP, max_tokens=10, messages=messages).usage
    assert plain.cache_creation_input_tokens == plain.cache_read_input_tokens == 0 and plain.input_tokens > 0


def test_moving_breakpoint_reads_previous_prefix(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    def marked(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        *head, last = messages
        content = last["content"] if isinstance(last["content"], list) else [{"type": "text", "text": last["content"]}]
        return head + [{**last, "content": [*content[:-1], {**content[-1], "cache_control": {"type": "ephemeral"}}]}]

    messages: list[dict[str, Any]] = [{"role": "user", "content": "Add notes please " * 30}]
    first = _ask(client, FAKE_EDIT, marked(messages))
    _feed_back(messages, first)
    second = _ask(client, FAKE_EDIT, marked(messages)).usage
    # The whole first prompt is read back; only the new turn is written.
    assert second.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert 0 < second.cache_creation_input_tokens < second.cache_read_input_tokens


def test_error_scenario_raises_bad_request(client: anthropic.Anthropic) -> None:
    for _ in range(2):
        with pytest.raises(anthropic.BadRequestError) as info:
            _ask(client, FAKE_ERROR, [{"role": "user", "content": "hi"}])
        assert info.value.status_code == 400
        assert info.value.body["error"] == {"type": "invalid_request_error",
                                            "message": "prompt is too long: fake rejection"}


def test_429_then_success_with_sdk_retry(fake: FakeAnthropic, served: tuple[FakeAnthropic, str]) -> None:
    with anthropic.Anthropic(base_url=served[1], api_key=KEY, max_retries=2) as sdk:
        response = _ask(sdk, FAKE_429_THEN_EDIT, [{"role": "user", "content": "retry me"}])
    assert response.stop_reason == "tool_use" and response.content[1].name == "bash"
    retries = [r["headers"]["x-stainless-retry-count"] for r in fake.requests_for(FAKE_429_THEN_EDIT)]
    assert retries == ["0", "1"]


def test_429_without_retries_and_per_conversation_counting(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.RateLimitError) as info:
        _ask(client, FAKE_429_THEN_EDIT, [{"role": "user", "content": "no retry"}])
    assert info.value.response.headers["retry-after"] == "0"
    # The same conversation has used up its failure; a new conversation gets its own.
    assert _ask(client, FAKE_429_THEN_EDIT, [{"role": "user", "content": "no retry"}]).stop_reason == "tool_use"
    with pytest.raises(anthropic.RateLimitError):
        _ask(client, FAKE_429_THEN_EDIT, [{"role": "user", "content": "another task"}])


def test_custom_script_errors_and_usage_override(served: tuple[FakeAnthropic, str]) -> None:
    fake = FakeAnthropic()
    fake.add_scenario("m", [
        Turn.error(529, "busy", times=2),
        Turn.text("hello", usage={"output_tokens": 7}),
        Turn.error(500, "boom", times=None),
    ])
    with fake.serve() as url, anthropic.Anthropic(base_url=url, api_key=KEY, max_retries=0) as sdk:
        messages: list[dict[str, Any]] = [{"role": "user", "content": "x"}]
        for _ in range(2):
            with pytest.raises(anthropic.OverloadedError):
                sdk.messages.create(model="m", max_tokens=5, messages=messages)
        reply = sdk.messages.create(model="m", max_tokens=5, messages=messages)
        assert reply.content[0].text == "hello" and reply.usage.output_tokens == 7
        messages += [{"role": "assistant", "content": "hello"}, {"role": "user", "content": "more"}]
        for _ in range(3):
            with pytest.raises(anthropic.InternalServerError) as info:
                sdk.messages.create(model="m", max_tokens=5, messages=messages)
            assert info.value.body["error"]["type"] == "api_error"
        # An always-failing error also covers every later step of the conversation.
        messages += [{"role": "assistant", "content": "?"}, {"role": "user", "content": "again"}]
        with pytest.raises(anthropic.InternalServerError):
            sdk.messages.create(model="m", max_tokens=5, messages=messages)


def test_loop_scenario_never_finishes(client: anthropic.Anthropic) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "loop"}]
    for _ in range(6):
        response = _ask(client, FAKE_LOOP, messages)
        assert response.stop_reason == "tool_use" and response.content[-1].input == {"command": "echo turn"}
        _feed_back(messages, response)


def test_auth_and_unknown_model(served: tuple[FakeAnthropic, str], client: anthropic.Anthropic) -> None:
    with anthropic.Anthropic(base_url=served[1], api_key="wrong", max_retries=0) as bad:
        with pytest.raises(anthropic.AuthenticationError) as info:
            _ask(bad, FAKE_NOOP, [{"role": "user", "content": "hi"}])
    assert info.value.body["error"]["type"] == "authentication_error"
    with pytest.raises(anthropic.NotFoundError) as missing:
        _ask(client, "claude-nonexistent", [{"role": "user", "content": "hi"}])
    assert missing.value.body["error"] == {"type": "not_found_error", "message": "model: claude-nonexistent"}
    body = {"model": FAKE_NOOP, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    # Raw HTTP: the classic x-api-key header works, but anthropic-version is required.
    ok = httpx.post(f"{served[1]}/v1/messages", json=body,
                    headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"})
    assert ok.status_code == 200 and ok.json()["content"] == [{"type": "text", "text": "Nothing to change."}]
    assert set(ok.json()["usage"]) == {"input_tokens", "output_tokens", "cache_creation_input_tokens",
                                       "cache_read_input_tokens"}
    assert httpx.post(f"{served[1]}/v1/messages", json=body, headers={"x-api-key": KEY}).status_code == 401


@pytest.mark.parametrize("messages", [
    [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
    [{"role": "assistant", "content": "a"}],
    [{"role": "user", "content": "a"},
     {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "bash", "input": {}}]},
     {"role": "user", "content": "forgot the tool_result"}],
])
def test_invalid_conversations_are_rejected(client: anthropic.Anthropic, messages: list[dict[str, Any]]) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        _ask(client, FAKE_NOOP, messages)
    assert info.value.body["error"]["type"] == "invalid_request_error"


def test_missing_fields_are_rejected(served: tuple[FakeAnthropic, str]) -> None:
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    response = httpx.post(f"{served[1]}/v1/messages", headers=headers,
                          json={"model": FAKE_NOOP, "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 400
    assert response.json() == {"type": "error", "error": {"type": "invalid_request_error",
                                                          "message": "max_tokens: Field required"}}

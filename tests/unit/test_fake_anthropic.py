"""Tests of the FakeAnthropic double, driven with the real anthropic SDK over loopback."""

from __future__ import annotations

import json
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
    [{"role": "user", "content": "a"}, {"role": "robot", "content": "b"}],
    [{"role": "assistant", "content": "a"}],
    [{"role": "system", "content": "only instructions"}],
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


def _event_types(client: anthropic.Anthropic, model: str, messages: list[dict[str, Any]]) -> list[Any]:
    with client.messages.create(model=model, max_tokens=1024, system=SYSTEM, messages=messages, stream=True) as raw:
        return list(raw)


def test_streamed_reply_matches_the_plain_one(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Add notes, streamed"}]
    plain = _ask(client, FAKE_EDIT, messages)
    with client.messages.stream(model=FAKE_EDIT, max_tokens=1024, system=SYSTEM, messages=messages) as stream:
        streamed = stream.get_final_message()
    # The SDK assembles text and tool input from many small deltas into the same message.
    assert [b.model_dump(exclude={"id"}) for b in streamed.content] == \
           [b.model_dump(exclude={"id"}) for b in plain.content]
    assert streamed.stop_reason == "tool_use" and streamed.content[1].id.startswith("toolu_")
    assert streamed.usage.output_tokens == plain.usage.output_tokens > 0
    assert streamed.usage.input_tokens == plain.usage.input_tokens > 0
    assert fake.requests_for(FAKE_EDIT)[1]["stream"] is True


def test_stream_events_come_in_the_api_order(client: anthropic.Anthropic) -> None:
    events = _event_types(client, FAKE_EDIT, [{"role": "user", "content": "Add notes, raw"}])
    kinds = [e.type for e in events]
    # (The SDK drops the ping that follows message_start.)
    assert kinds[:2] == ["message_start", "content_block_start"] and kinds[-2:] == ["message_delta", "message_stop"]
    start = events[0].message
    assert start.content == [] and start.stop_reason is None and start.usage.output_tokens == 1
    # Block 0 is text, block 1 the tool call whose input arrives as JSON fragments.
    blocks = [e for e in events if e.type == "content_block_start"]
    assert [(b.index, b.content_block.type) for b in blocks] == [(0, "text"), (1, "tool_use")]
    assert blocks[1].content_block.input == {} and blocks[1].content_block.name == "bash"
    fragments = [e.delta.partial_json for e in events if e.type == "content_block_delta" and e.index == 1]
    assert len(fragments) > 1 and "".join(fragments) == '{"command":"ls -la && git log --oneline -n 5"}'
    assert [e.type for e in events if getattr(e, "index", None) == 0][-1] == "content_block_stop"
    delta = events[-2]
    assert delta.delta.stop_reason == "tool_use" and delta.usage.output_tokens > 1


def test_streamed_thinking_has_its_deltas_and_signature(served: tuple[FakeAnthropic, str]) -> None:
    fake = FakeAnthropic()
    fake.add_scenario("think", [Turn.reply([{"type": "thinking", "thinking": "Let me weigh the options here.",
                                             "signature": "c2lnbmVk"}, {"type": "text", "text": "Fine."}])])
    thinking = {"type": "enabled", "budget_tokens": 1024}
    with fake.serve() as url, anthropic.Anthropic(base_url=url, api_key=KEY, max_retries=0) as sdk:
        with sdk.messages.create(model="think", max_tokens=2048, thinking=thinking, stream=True,
                                 messages=[{"role": "user", "content": "think"}]) as raw:
            deltas = [e.delta.type for e in raw if e.type == "content_block_delta"]
        assert deltas == ["thinking_delta", "thinking_delta", "signature_delta", "text_delta"]
        with sdk.messages.stream(model="think", max_tokens=2048, thinking=thinking,
                                 messages=[{"role": "user", "content": "think"}]) as stream:
            final = stream.get_final_message()
    assert final.content[0].type == "thinking" and final.content[0].signature == "c2lnbmVk"
    assert final.content[0].thinking == "Let me weigh the options here."


@pytest.mark.parametrize(("thinking", "max_tokens", "message"), [
    ({"type": "enabled", "budget_tokens": 1023}, 4096, "greater than or equal to 1024"),
    ({"type": "enabled", "budget_tokens": 2048}, 2048, "`max_tokens` must be greater than `thinking.budget_tokens`"),
])
def test_thinking_budgets_are_checked_like_the_api(client: anthropic.Anthropic, thinking: dict[str, Any],
                                                  max_tokens: int, message: str) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(model=FAKE_NOOP, max_tokens=max_tokens, thinking=thinking,  # type: ignore[arg-type]
                               messages=[{"role": "user", "content": "hi"}], stream=True)
    assert message in info.value.body["error"]["message"]


def test_claude_code_request_shape_is_accepted(served: tuple[FakeAnthropic, str]) -> None:
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01", "anthropic-beta": "context-management-2025-06-27",
               "accept": "text/event-stream"}
    body = {"model": FAKE_NOOP, "max_tokens": 64, "stream": True, "messages": [{"role": "user", "content": "hi"}],
            "metadata": {"user_id": "u"}, "context_management": {"edits": []}, "temperature": 1}
    with httpx.stream("POST", f"{served[1]}/v1/messages?beta=true", json=body, headers=headers) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        text = response.read().decode()
    assert text.startswith("event: message_start\ndata: {") and "event: ping\n" in text
    assert text.endswith('event: message_stop\ndata: {"type":"message_stop"}\n\n')
    counted = httpx.post(f"{served[1]}/v1/messages/count_tokens?beta=true", headers=headers,
                         json={"model": FAKE_NOOP, "messages": [{"role": "user", "content": "hi"}]})
    assert counted.status_code == 200 and counted.json()["input_tokens"] > 0


def test_broken_replies_cannot_be_read(served: tuple[FakeAnthropic, str]) -> None:
    fake = FakeAnthropic()
    fake.add_scenario("cut", [Turn.broken("cut")])
    fake.add_scenario("garbled", [Turn.broken("garbled")])
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    ask = {"max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
    with fake.serve() as url:
        cut = httpx.post(f"{url}/v1/messages", json={"model": "cut", "stream": True, **ask}, headers=headers).text
        garbled = httpx.post(f"{url}/v1/messages", json={"model": "garbled", **ask}, headers=headers)
        garbled_stream = httpx.post(f"{url}/v1/messages", json={"model": "garbled", "stream": True, **ask},
                                    headers=headers).text
    assert "content_block_stop" in cut and "message_delta" not in cut and "message_stop" not in cut
    with pytest.raises(ValueError):
        garbled.json()
    with pytest.raises(ValueError):
        json.loads(garbled_stream.split("data: ")[-1])
    assert "message_stop" not in garbled_stream


def test_consecutive_turns_combine_and_system_messages_are_accepted(client: anthropic.Anthropic) -> None:
    # What Claude Code sends: the prompt after a reminder in its own user message, then a system-role message.
    messages = [{"role": "user", "content": "<system-reminder>x</system-reminder>"},
                {"role": "user", "content": [{"type": "text", "text": "Add notes"}]},
                {"role": "system", "content": "Be brief."}]
    reply = _ask(client, FAKE_EDIT, messages)
    assert reply.stop_reason == "tool_use"
    tool = reply.content[-1]
    answered = [*messages, {"role": "assistant", "content": [b.model_dump() for b in reply.content]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool.id, "content": "ok"}]},
                {"role": "user", "content": "and a nudge"}]
    assert _ask(client, FAKE_EDIT, answered).content[-1].name == "str_replace_based_edit_tool"

"""What usage costs, and how the meter sizes each call so that, even fully used, it cannot cross the budget."""

from __future__ import annotations

from typing import Any

import pytest

from agent.pricing import ModelPrice, Usage
from agent.relay.estimate import input_bound, request_size, stream_key
from agent.relay.meter import Admission, CallRefused, Meter, PriceBook, RelayLimits
from shared.llm.lookup import price_for

SONNET = ModelPrice(input=3.0, output=15.0)


def meter(limit: float | None, *, price: ModelPrice = SONNET, max_tokens: int = 8192, clock: Any = None) -> Meter:
    limits = RelayLimits(model_id="m", max_turns=100, max_budget_usd=limit, max_output_tokens=max_tokens,
                         min_output_tokens=256)
    return Meter(limits, PriceBook("m", price), **({"clock": clock} if clock else {}))


def body(chars: int, max_tokens: int = 100_000) -> dict[str, Any]:
    return {"model": "m", "max_tokens": max_tokens, "messages": [{"role": "user", "content": "x" * chars}]}


def answered(m: Meter, request: dict[str, Any], usage: Usage) -> Admission:
    call = m.admit(request)
    m.settle(call, usage, tools=[], stop_reason="tool_use")
    return call


def test_cost_prices_cache_writes_at_1_25x_and_reads_at_0_1x_of_input() -> None:
    usage = Usage(input=1_000_000, output=1_000_000, cache_read=1_000_000, cache_write=1_000_000)
    assert usage.cost(SONNET) == pytest.approx(3 + 15 + 0.3 + 3.75)
    assert Usage(input=2_000).cost(ModelPrice(input=1, output=5)) == pytest.approx(0.002)
    assert (Usage(1, 2, 3, 4) + Usage(10, 20, 30, 40)) == Usage(11, 22, 33, 44)
    assert Usage(1, 2, 3, 4).prompt_tokens == 8


def test_without_a_limit_every_call_gets_the_full_max_tokens() -> None:
    assert meter(None).admit(body(10_000_000)).body["max_tokens"] == 8192


def test_max_tokens_shrinks_to_what_the_remaining_money_buys() -> None:
    clock = [0.0]
    m = meter(1.0, clock=lambda: clock[0])
    assert m.admit(body(1_000)).body["max_tokens"] == 8192
    m = meter(1.0, clock=lambda: clock[0])
    first = answered(m, body(1_000), Usage(input=0, output=1_000, cache_write=100_000))  # $0.39
    stream = m._streams[first.key]
    estimate, _ = input_bound(SONNET, stream, request_size(body(3_000)), clock[0])
    remaining = 1.0 - m.cost_usd - estimate
    assert m.admit(body(3_000)).body["max_tokens"] == min(8192, int(remaining * 1_000_000 / 15))
    # A stale cache is priced as a rewrite: the estimate goes up.
    assert input_bound(SONNET, stream, request_size(body(3_000)), 1_000.0)[0] > estimate
    # A prompt that shrank (old output elided) cannot trust the cache either: its whole size counts.
    assert input_bound(SONNET, stream, request_size(body(500)), clock[0])[0] > 0


def test_no_call_when_not_even_a_minimal_reply_fits() -> None:
    m = meter(0.01)
    answered(m, body(10), Usage(output=400))  # $0.006 spent
    with pytest.raises(CallRefused):
        m.admit(body(10))
    assert m.stopped == "budget" and "budget of $0.01 (spent $0.0060)" in (m.stop_message or "")


def test_a_long_prompt_prices_every_token_of_the_call_in_the_higher_band() -> None:
    haiku = price_for("claude-haiku-5-5")  # $0.10/$0.50 up to 100k prompt tokens, $0.50/$2.50 above
    assert Usage(input=100_000, output=1_000_000).cost(haiku) == pytest.approx(0.01 + 0.5)
    assert Usage(input=100_001, output=1_000_000).cost(haiku) == pytest.approx(100_001 * 0.5 / 1e6 + 2.5)
    assert Usage(input=1, cache_read=100_000, output=0).cost(haiku) == pytest.approx((0.5 + 100_000 * 0.05) / 1e6)


def test_the_budget_forecasts_a_long_prompt_at_the_higher_band() -> None:
    haiku = price_for("claude-haiku-5-5")
    m = meter(0.05, price=haiku, max_tokens=128_000)
    call = m.admit(body(10, 1_000))
    m.settle(call, Usage(input=0, output=0, cache_write=150_000), tools=[], stop_reason=None)
    assert m.cost_usd == pytest.approx(150_000 * 0.625 / 1e6)  # 150k prompt: $0.09375 at the long band
    with pytest.raises(CallRefused):
        m.admit(body(10))  # already over: no call
    roomy = meter(1.0, price=haiku, max_tokens=128_000, clock=lambda: 0.0)
    first = answered(roomy, body(10, 1_000), Usage(cache_write=150_000))
    input_cost, _ = input_bound(haiku, roomy._streams[first.key], request_size(body(10)), 0.0)
    assert input_cost == pytest.approx(150_000 * 0.05 / 1e6)  # cached, read at the long band's $0.05
    allowed = min(128_000, int((1.0 - roomy.cost_usd - input_cost) * 1e6 / 2.5))
    assert roomy.admit(body(10, 200_000)).body["max_tokens"] == allowed


def test_calls_in_flight_hold_back_their_worst_case() -> None:
    m = meter(0.2)
    first = m.admit(body(10, 8192))
    second = m.admit(body(10, 100_000))
    # The second call is sized as if the first used every token it was allowed.
    assert second.body["max_tokens"] < 8192 and first.reserved_usd + second.reserved_usd <= 0.2
    m.release(first)
    assert m.turns == 1 and m.admit(body(10)).body["max_tokens"] > second.body["max_tokens"]


def test_a_conversation_is_known_by_its_model_system_and_tools_not_its_cache_markers() -> None:
    system = [{"type": "text", "text": "be careful"}]
    plain = {**body(10), "system": system}
    marked = {**body(20), "system": [{**system[0], "cache_control": {"type": "ephemeral"}}]}
    assert stream_key(plain) == stream_key(marked)
    assert stream_key({**plain, "system": "a sub-agent"}) != stream_key(plain)
    assert stream_key({**plain, "model": "other"}) != stream_key(plain)

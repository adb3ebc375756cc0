"""What usage costs, and how the budget sizes the next call."""

from __future__ import annotations

import pytest

from agent.budget import Budget
from agent.pricing import ModelPrice, Usage
from shared.llm.lookup import price_for

SONNET = ModelPrice(input=3.0, output=15.0)


def test_cost_prices_cache_writes_at_1_25x_and_reads_at_0_1x_of_input() -> None:
    usage = Usage(input=1_000_000, output=1_000_000, cache_read=1_000_000, cache_write=1_000_000)
    assert usage.cost(SONNET) == pytest.approx(3 + 15 + 0.3 + 3.75)
    assert Usage(input=2_000).cost(ModelPrice(input=1, output=5)) == pytest.approx(0.002)
    assert (Usage(1, 2, 3, 4) + Usage(10, 20, 30, 40)) == Usage(11, 22, 33, 44)
    assert Usage(1, 2, 3, 4).prompt_tokens == 8


def test_without_a_limit_every_call_gets_the_full_max_tokens() -> None:
    budget = Budget(SONNET, None, max_tokens=8192, min_output_tokens=256)
    assert budget.max_tokens_for_next(10_000_000) == 8192


def test_max_tokens_shrinks_to_what_the_remaining_money_buys() -> None:
    clock = [0.0]
    budget = Budget(SONNET, 1.0, max_tokens=8192, min_output_tokens=256, clock=lambda: clock[0])
    assert budget.max_tokens_for_next(1_000) == 8192
    budget.record(Usage(input=0, output=1_000, cache_write=100_000))  # $0.39
    estimate = budget.next_input_cost(2_000)
    remaining = 1.0 - budget.spent_usd - estimate
    assert budget.max_tokens_for_next(2_000) == min(8192, int(remaining * 1_000_000 / 15))
    # A stale cache is priced as a rewrite: the estimate goes up.
    clock[0] = 1_000.0
    assert budget.next_input_cost(2_000) > estimate


def test_no_call_when_not_even_a_minimal_reply_fits() -> None:
    budget = Budget(SONNET, 0.01, max_tokens=8192, min_output_tokens=256)
    budget.record(Usage(output=400))  # $0.006 spent
    assert budget.max_tokens_for_next(0) is None


def test_a_long_prompt_prices_every_token_of_the_call_in_the_higher_band() -> None:
    haiku = price_for("claude-haiku-5-5")  # $0.10/$0.50 up to 100k prompt tokens, $0.50/$2.50 above
    assert Usage(input=100_000, output=1_000_000).cost(haiku) == pytest.approx(0.01 + 0.5)
    assert Usage(input=100_001, output=1_000_000).cost(haiku) == pytest.approx(100_001 * 0.5 / 1e6 + 2.5)
    assert Usage(input=1, cache_read=100_000, output=0).cost(haiku) == pytest.approx((0.5 + 100_000 * 0.05) / 1e6)


def test_the_budget_forecasts_a_long_prompt_at_the_higher_band() -> None:
    haiku = price_for("claude-haiku-5-5")
    budget = Budget(haiku, 0.05, max_tokens=128_000, min_output_tokens=256)
    budget.record(Usage(input=0, output=0, cache_write=150_000))  # 150k prompt: $0.09375 at the long band
    assert budget.spent_usd == pytest.approx(150_000 * 0.625 / 1e6)
    assert budget.max_tokens_for_next(0) is None  # already over: no call
    roomy = Budget(haiku, 1.0, max_tokens=128_000, min_output_tokens=256)
    roomy.record(Usage(cache_write=150_000))
    input_cost = roomy.next_input_cost(0)
    assert input_cost == pytest.approx(150_000 * 0.05 / 1e6)  # cached, read at the long band's $0.05
    assert roomy.max_tokens_for_next(0) == min(128_000, int((1.0 - roomy.spent_usd - input_cost) * 1e6 / 2.5))

"""Prices per model, what usage costs, and how the budget sizes the next call."""

from __future__ import annotations

import pytest

from agent.budget import Budget
from agent.pricing import SONNET, ModelPrice, Usage, price_for


@pytest.mark.parametrize("model_id, expected", [
    ("claude-sonnet-4-5-20250929", (3.0, 15.0)),
    ("us.anthropic.claude-sonnet-4-20250514-v1:0", (3.0, 15.0)),
    ("claude-opus-4-1-20250805", (15.0, 75.0)),
    ("claude-opus-4-5", (5.0, 25.0)),
    ("claude-haiku-4-5", (1.0, 5.0)),
    ("claude-3-5-haiku-20241022", (0.8, 4.0)),
    ("claude-3-haiku-20240307", (0.25, 1.25)),
    ("fake-edit", (3.0, 15.0)),
])
def test_price_table(model_id: str, expected: tuple[float, float]) -> None:
    price = price_for(model_id)
    assert (price.input, price.output) == expected


def test_cost_prices_cache_writes_at_1_25x_and_reads_at_0_1x_of_input() -> None:
    usage = Usage(input=1_000_000, output=1_000_000, cache_read=1_000_000, cache_write=1_000_000)
    assert usage.cost(SONNET) == pytest.approx(3 + 15 + 0.3 + 3.75)
    assert Usage(input=2_000).cost(ModelPrice(1, 5)) == pytest.approx(0.002)
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

"""The dollar cap, enforced before each call: a call may only ask for the output the remaining money can buy."""

from __future__ import annotations

import math
import time
from typing import Callable

from agent.pricing import MTOK, ModelPrice, PriceBand, Usage

# Conservative: real text and code run 3-4 characters per token.
CHARS_PER_TOKEN = 2
# The API adds a hidden prompt for the client tools it defines (bash, text editor).
TOOL_PROMPT_TOKENS = 1_500
# The prompt cache lives 5 minutes from its last use; trust it for less.
CACHE_TRUST_SECONDS = 240


class Budget:
    """Tracks spend and sizes the next call so that, even if fully used, it cannot cross the cap."""

    def __init__(self, price: ModelPrice, limit_usd: float | None, *, max_tokens: int, min_output_tokens: int,
                 clock: Callable[[], float] = time.monotonic):
        self._price = price
        self.limit_usd = limit_usd
        self._max_tokens = max_tokens
        self._min_output = min_output_tokens
        self._clock = clock
        self.spent_usd = 0.0
        self._last: Usage | None = None
        self._last_at = 0.0
        self._cache_valid = False

    def record(self, usage: Usage) -> float:
        """Add one call's usage; return what it cost."""
        cost = usage.cost(self._price)
        self.spent_usd += cost
        self._last, self._last_at, self._cache_valid = usage, self._clock(), True
        return cost

    def invalidate_cache(self) -> None:
        """The prompt prefix changed (old output elided): price the next call as uncached."""
        self._cache_valid = False

    def next_input_cost(self, new_chars: int) -> float:
        """An upper bound of the next call's input cost, given the characters added since the last call."""
        return self._next_call(new_chars)[0]

    def _next_call(self, new_chars: int) -> tuple[float, PriceBand]:
        """The next call's input cost bound and the price band its prompt length falls in."""
        new_tokens = math.ceil(new_chars / CHARS_PER_TOKEN)
        if self._last is None:
            tokens = new_tokens + TOOL_PROMPT_TOKENS
            band = self._price.band(tokens)
            return tokens * band.cache_write / MTOK, band
        cached = self._last.cache_read + self._last.cache_write
        fresh = self._last.input + self._last.output + new_tokens
        band = self._price.band(cached + fresh)
        if self._cache_valid and self._clock() - self._last_at < CACHE_TRUST_SECONDS:
            return (cached * band.cache_read + fresh * band.cache_write) / MTOK, band
        return (cached + fresh) * band.cache_write / MTOK, band

    def max_tokens_for_next(self, new_chars: int) -> int | None:
        """max_tokens for the next call, or None when not even a minimal reply fits under the cap."""
        if self.limit_usd is None:
            return self._max_tokens
        input_cost, band = self._next_call(new_chars)
        remaining = self.limit_usd - self.spent_usd - input_cost
        affordable = math.floor(remaining * MTOK / band.output) if remaining > 0 else 0
        if affordable < self._min_output:
            return None
        return min(self._max_tokens, affordable)

"""What model calls cost, from the usage the API reports and the model's catalog (or operator) price."""

from __future__ import annotations

from dataclasses import dataclass

from shared.llm.prices import MTOK, ModelPrice, PriceBand

__all__ = ["MTOK", "ModelPrice", "PriceBand", "Usage"]


@dataclass(frozen=True)
class Usage:
    """Token counts of one call or a running total, as the API reports them."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(self.input + other.input, self.output + other.output,
                     self.cache_read + other.cache_read, self.cache_write + other.cache_write)

    @property
    def prompt_tokens(self) -> int:
        """Every input token of the call, cached or not."""
        return self.input + self.cache_read + self.cache_write

    def cost(self, price: ModelPrice) -> float:
        """Dollars this usage of one call costs at `price` (the band its prompt length falls in)."""
        band = price.band(self.prompt_tokens)
        return (self.input * band.input + self.output * band.output
                + self.cache_write * band.cache_write + self.cache_read * band.cache_read) / MTOK

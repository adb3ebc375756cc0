"""What model calls cost, from the usage the API reports."""

from __future__ import annotations

from dataclasses import dataclass

MTOK = 1_000_000
CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.1


@dataclass(frozen=True)
class ModelPrice:
    """US dollars per million tokens."""

    input: float
    output: float

    @property
    def cache_write(self) -> float:
        return self.input * CACHE_WRITE_FACTOR

    @property
    def cache_read(self) -> float:
        return self.input * CACHE_READ_FACTOR


SONNET = ModelPrice(3.0, 15.0)
# Matched as substrings of the model id, most specific first, so Bedrock ids
# ("us.anthropic.claude-sonnet-4-5-20250929-v1:0") and dated ids price alike.
_TABLE: tuple[tuple[str, ModelPrice], ...] = (
    ("opus-4-5", ModelPrice(5.0, 25.0)),
    ("opus", ModelPrice(15.0, 75.0)),
    ("haiku-4", ModelPrice(1.0, 5.0)),
    ("3-5-haiku", ModelPrice(0.8, 4.0)),
    ("haiku", ModelPrice(0.25, 1.25)),
    ("sonnet", SONNET),
)


def price_for(model_id: str) -> ModelPrice:
    """The price of a model; unknown ids are priced as a Sonnet-class model."""
    lowered = model_id.lower()
    return next((price for key, price in _TABLE if key in lowered), SONNET)


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
        """Dollars this usage costs at `price`."""
        return (self.input * price.input + self.output * price.output
                + self.cache_write * price.cache_write + self.cache_read * price.cache_read) / MTOK

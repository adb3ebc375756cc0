"""A model's price in US dollars per million tokens, with the cache multipliers and any long-prompt band."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MTOK = 1_000_000


class PriceBand(BaseModel):
    """Dollars per million tokens of one price band; cache writes and reads as multiples of input."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: float = Field(gt=0)
    output: float = Field(gt=0)
    cache_write_factor: float = Field(1.25, gt=0)  # 5-minute cache writes, the kind the agent makes
    cache_read_factor: float = Field(0.1, gt=0)

    @property
    def cache_write(self) -> float:
        return self.input * self.cache_write_factor

    @property
    def cache_read(self) -> float:
        return self.input * self.cache_read_factor


class ModelPrice(PriceBand):
    """A model's price; `long_prompt` applies to every token of a request whose prompt exceeds the threshold."""

    long_prompt_threshold: int | None = Field(None, ge=1)
    long_prompt: PriceBand | None = None

    def band(self, prompt_tokens: int) -> PriceBand:
        """The band that prices a request with this many prompt tokens (input, cache reads and writes)."""
        if self.long_prompt and self.long_prompt_threshold and prompt_tokens > self.long_prompt_threshold:
            return self.long_prompt
        return self

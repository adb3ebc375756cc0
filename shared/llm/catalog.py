"""The model catalog: data only. Every price here is published; a model missing here has no price.

Sources, read on 2026-12-01:
- prices: https://platform.claude.com/docs/en/about-claude/pricing ("Model pricing": base input, 5m cache
  writes, cache hits, output), and the per-model pages https://platform.claude.com/docs/en/models/<model>/overview
  (context window, max output, Haiku 5.5's two prompt-length bands). The Sonnet 5.5 cache-hit cut to $0.10/MTok
  (0.05x) took effect 2026-10-07.
- end of life: the installed `anthropic` SDK's `anthropic/_data/deprecated_models.py` (read at run time by
  `shared.llm.lifecycle`) and https://platform.claude.com/docs/en/about-claude/model-deprecations.
- Bedrock ids, only where a source names them: Anthropic's Fable 5 launch notes (anthropic.claude-fable-5), the
  vercel/ai @ai-sdk/amazon-bedrock releases of 2026-09-28 and 2026-10-07 (Sonnet 5.5, Haiku 5.5), and the dated
  4.5 ids Bedrock has served since 2025. A model without one is invoked on Bedrock by the id it is given.
Models the SDK lists without a published price we could verify (claude-fable-5-2, claude-mythos-5-2) are left
out on purpose: an operator who uses them prices them in `model_prices`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from shared.llm.prices import ModelPrice, PriceBand

Family = Literal["fable", "mythos", "opus", "sonnet", "haiku"]
K = 1_000
M = 1_000_000


@dataclass(frozen=True)
class CatalogModel:
    """One model the platform knows how to price and size."""

    model_id: str
    family: Family
    price: ModelPrice
    context_window: int
    max_output: int
    bedrock_id: str | None = None
    aliases: tuple[str, ...] = ()  # dated ids of the same model
    end_of_life: date | None = None


def _price(input: float, output: float, cache_read_factor: float = 0.1) -> ModelPrice:
    return ModelPrice(input=input, output=output, cache_read_factor=cache_read_factor)


_HAIKU_5_5 = ModelPrice(input=0.10, output=0.50, long_prompt_threshold=100_000,
                        long_prompt=PriceBand(input=0.50, output=2.50))

# The one default of the platform: current in the SDK's model list and absent from its deprecation table.
DEFAULT_MODEL_ID = "claude-sonnet-5-5"

CATALOG: tuple[CatalogModel, ...] = (
    CatalogModel("claude-fable-5-1", "fable", _price(10, 50, 0.025), 1 * M, 128 * K),
    CatalogModel("claude-mythos-5-1", "mythos", _price(10, 50, 0.025), 1 * M, 128 * K),
    CatalogModel("claude-fable-5", "fable", _price(10, 50), 1 * M, 128 * K, bedrock_id="anthropic.claude-fable-5"),
    CatalogModel("claude-mythos-5", "mythos", _price(10, 50), 1 * M, 128 * K),
    CatalogModel("claude-opus-5-5", "opus", _price(4, 20, 0.05), 1 * M, 128 * K),
    CatalogModel("claude-opus-5", "opus", _price(5, 25), 1 * M, 128 * K),
    CatalogModel("claude-opus-4-8", "opus", _price(5, 25), 1 * M, 128 * K),
    CatalogModel("claude-opus-4-7", "opus", _price(5, 25), 1 * M, 128 * K),
    CatalogModel("claude-opus-4-6", "opus", _price(5, 25), 1 * M, 128 * K),
    CatalogModel("claude-opus-4-5", "opus", _price(5, 25), 200 * K, 64 * K,
                 bedrock_id="anthropic.claude-opus-4-5-20251101-v1:0", aliases=("claude-opus-4-5-20251101",),
                 end_of_life=date(2027, 1, 22)),
    CatalogModel("claude-sonnet-5-5", "sonnet", _price(2, 10, 0.05), 1 * M, 128 * K,
                 bedrock_id="anthropic.claude-sonnet-5-5"),
    CatalogModel("claude-sonnet-5", "sonnet", _price(2, 10), 1 * M, 128 * K),
    CatalogModel("claude-sonnet-4-6", "sonnet", _price(3, 15), 1 * M, 64 * K),
    CatalogModel("claude-haiku-5-5", "haiku", _HAIKU_5_5, 1 * M, 128 * K, bedrock_id="anthropic.claude-haiku-5-5"),
    CatalogModel("claude-haiku-4-5", "haiku", _price(1, 5), 200 * K, 64 * K,
                 bedrock_id="anthropic.claude-haiku-4-5-20251001-v1:0", aliases=("claude-haiku-4-5-20251001",)),
)

# Models already retired (requests to them fail), with the day they stopped being served.
RETIRED: dict[str, date] = {
    "claude-sonnet-4-5": date(2026, 11, 30),
    "claude-sonnet-4-5-20250929": date(2026, 11, 30),
    "claude-sonnet-4-0": date(2026, 6, 15),
    "claude-sonnet-4-20250514": date(2026, 6, 15),
    "claude-opus-4-0": date(2026, 6, 15),
    "claude-opus-4-20250514": date(2026, 6, 15),
}

# What to move to when a model of a family reaches its end of life.
REPLACEMENT_BY_FAMILY: dict[str, str] = {
    "fable": "claude-fable-5-1", "mythos": "claude-mythos-5-1", "opus": "claude-opus-5-5",
    "sonnet": DEFAULT_MODEL_ID, "haiku": "claude-haiku-5-5",
}

"""The model catalog: published prices, fail-closed lookups, and a default the installed SDK still serves."""

from __future__ import annotations

import typing
from datetime import date
from pathlib import Path

import pytest
import yaml
from anthropic._data import DEPRECATED_MODELS
from anthropic.types.model_param import ModelParam

from services.gateway.settings import GatewaySettings
from services.hydrator.settings import HydratorSettings
from shared.llm.catalog import CATALOG, DEFAULT_MODEL_ID, REPLACEMENT_BY_FAMILY
from shared.llm.errors import ModelRetired, UnknownModel
from shared.llm.lifecycle import (
    configured_model_notices,
    end_of_life,
    lifecycle_warning,
    parse_sdk_date,
    replacement_for,
    today_utc,
    vet_model,
)
from shared.llm.lookup import find_model, price_for, provider_model_id
from shared.llm.prices import ModelPrice

ROOT = Path(__file__).resolve().parents[2]
# The SDK's current model list (its `ModelParam` literal), read at test time.
SDK_MODELS = set(typing.get_args(typing.get_args(ModelParam)[0]))
# Models the SDK lists that the catalog leaves unpriced on purpose (no verified published price, or retired).
UNPRICED = {"claude-fable-5-2", "claude-mythos-5-2", "claude-mythos-preview"}

# platform.claude.com pricing, read 2026-12-01: input, output, 5m cache write, cache hit ($ per million tokens).
PUBLISHED = {
    "claude-fable-5-1": (10, 50, 12.5, 0.25), "claude-mythos-5-1": (10, 50, 12.5, 0.25),
    "claude-fable-5": (10, 50, 12.5, 1.0), "claude-mythos-5": (10, 50, 12.5, 1.0),
    "claude-opus-5-5": (4, 20, 5, 0.2), "claude-opus-5": (5, 25, 6.25, 0.5), "claude-opus-4-8": (5, 25, 6.25, 0.5),
    "claude-opus-4-7": (5, 25, 6.25, 0.5), "claude-opus-4-6": (5, 25, 6.25, 0.5), "claude-opus-4-5": (5, 25, 6.25, 0.5),
    "claude-sonnet-5-5": (2, 10, 2.5, 0.1), "claude-sonnet-5": (2, 10, 2.5, 0.2),
    "claude-sonnet-4-6": (3, 15, 3.75, 0.3),
    "claude-haiku-5-5": (0.1, 0.5, 0.125, 0.01), "claude-haiku-4-5": (1, 5, 1.25, 0.1),
}


@pytest.mark.parametrize("model_id", sorted(PUBLISHED))
def test_every_family_member_is_priced_as_published(model_id: str) -> None:
    price = price_for(model_id)
    got = (price.input, price.output, price.cache_write, price.cache_read)
    assert got == pytest.approx(PUBLISHED[model_id]), model_id


def test_the_catalog_is_exactly_the_published_table() -> None:
    assert {m.model_id for m in CATALOG} == set(PUBLISHED)


def test_haiku_5_5_prices_long_prompts_in_its_higher_band() -> None:
    price = price_for("claude-haiku-5-5")
    long = price.band(100_001)
    assert (long.input, long.output, long.cache_write, long.cache_read) == pytest.approx((0.5, 2.5, 0.625, 0.05))
    assert price.band(100_000) is price


@pytest.mark.parametrize("model_id", ["claude-imaginary-9", "claude-sonnet-4-5", "claude-opus-4-1", "opus",
                                      "claude-fable-5-2", "", "CLAUDE-SONNET-5-5"])
def test_an_unknown_model_raises_instead_of_borrowing_a_price(model_id: str) -> None:
    with pytest.raises(UnknownModel, match="unknown model"):
        price_for(model_id)


def test_operator_prices_come_first_and_price_what_the_catalog_lacks() -> None:
    mine = ModelPrice(input=7, output=70)
    assert price_for("claude-fable-5-2", {"claude-fable-5-2": mine}) is mine
    assert price_for("claude-opus-5-5", {"claude-opus-5-5": mine}) is mine


def test_aliases_and_bedrock_ids_find_the_same_model() -> None:
    assert find_model("claude-haiku-4-5-20251001") is find_model("claude-haiku-4-5")
    assert find_model("us.anthropic.claude-opus-4-5-20251101-v1:0") is find_model("claude-opus-4-5")
    assert find_model("global.anthropic.claude-sonnet-5-5") is find_model(DEFAULT_MODEL_ID)
    assert provider_model_id(DEFAULT_MODEL_ID, "bedrock") == "anthropic.claude-sonnet-5-5"
    assert provider_model_id(DEFAULT_MODEL_ID, "anthropic") == DEFAULT_MODEL_ID
    assert provider_model_id("claude-opus-4-6", "bedrock") == "claude-opus-4-6"  # no Bedrock id known: as given


def test_every_catalog_model_is_one_the_installed_sdk_lists() -> None:
    assert {m.model_id for m in CATALOG} <= SDK_MODELS


def test_every_model_the_sdk_lists_is_priced_or_knowingly_left_out() -> None:
    """A new SDK that adds a model breaks this test, not a budget: price it or list it in UNPRICED."""
    priced = {alias for m in CATALOG for alias in (m.model_id, *m.aliases)}
    assert SDK_MODELS - priced == UNPRICED


def test_the_default_is_current_in_the_installed_sdk() -> None:
    """Fails as soon as the installed SDK gives the default an end-of-life date that has passed."""
    assert DEFAULT_MODEL_ID in SDK_MODELS
    eol = DEPRECATED_MODELS.get(DEFAULT_MODEL_ID)
    assert eol is None or parse_sdk_date(eol) > today_utc(), f"{DEFAULT_MODEL_ID} reached its end of life ({eol})"
    assert vet_model(DEFAULT_MODEL_ID) == [], "the default is within 30 days of its end of life"


def test_every_place_that_names_a_default_reads_the_catalog() -> None:
    """The services' settings and the sample stack config (the Pulumi default: tests/infra)."""
    sample = yaml.safe_load((ROOT / "infra/pulumi/Pulumi.dev.yaml").read_text())["config"]
    assert HydratorSettings().default_model_id == GatewaySettings().default_model_id == DEFAULT_MODEL_ID
    assert sample["bgagent:defaultModelId"] == DEFAULT_MODEL_ID


def test_replacements_are_current_priced_models() -> None:
    for replacement in REPLACEMENT_BY_FAMILY.values():
        assert end_of_life(replacement) is None and price_for(replacement)
    assert replacement_for("claude-sonnet-4-5") == DEFAULT_MODEL_ID
    assert replacement_for("claude-mythos-preview") == "claude-mythos-5-1"
    assert replacement_for("whatever") == DEFAULT_MODEL_ID


def test_sdk_dates_parse_with_ordinals() -> None:
    assert parse_sdk_date("November 30th, 2026") == date(2026, 11, 30)
    assert parse_sdk_date("January 22nd, 2027") == date(2027, 1, 22)
    assert parse_sdk_date("June 1st, 2026") == date(2026, 6, 1)
    assert parse_sdk_date("soon") is None


def test_end_of_life_reads_the_sdk_table_and_the_catalog() -> None:
    assert end_of_life("claude-mythos-preview") == date(2026, 6, 30)  # only the SDK knows it
    assert end_of_life("claude-opus-4-5-20251101") == date(2027, 1, 22)
    assert end_of_life("claude-sonnet-4-5") == date(2026, 11, 30)
    assert end_of_life(DEFAULT_MODEL_ID) is None


def test_refused_on_and_after_the_end_warned_within_30_days_silent_before() -> None:
    eol = date(2027, 1, 22)
    assert lifecycle_warning("claude-opus-4-5", date(2026, 12, 22)) is None  # 31 days before
    assert "(30 days)" in (lifecycle_warning("claude-opus-4-5", date(2026, 12, 23)) or "")
    for day in (eol, date(2027, 3, 1)):
        with pytest.raises(ModelRetired, match="use 'claude-opus-5-5' instead") as caught:
            lifecycle_warning("claude-opus-4-5", day)
        assert caught.value.end_of_life == eol


def test_notices_name_the_default_and_each_repo_whose_model_is_deprecated() -> None:
    notices = configured_model_notices("claude-opus-4-5", {"acme/a": "claude-sonnet-4-5", "acme/b": DEFAULT_MODEL_ID},
                                       today=date(2026, 12, 1))
    assert notices == [
        "the default model: model 'claude-opus-4-5' is deprecated (end of life 2027-01-22); move to 'claude-opus-5-5'",
        "repository acme/a: model 'claude-sonnet-4-5' reached its end of life on 2026-11-30: tasks using it are "
        "refused; move to 'claude-sonnet-5-5'",
    ]
    assert configured_model_notices(DEFAULT_MODEL_ID, {}) == []

"""Model checks of operator commands: a repo's model must be priced and not past its end of life."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import date

from pydantic import TypeAdapter, ValidationError

from cli.errors import UsageError
from shared.llm.catalog import DEFAULT_MODEL_ID
from shared.llm.errors import ModelCatalogError
from shared.llm.lifecycle import configured_model_notices, vet_model
from shared.llm.prices import ModelPrice

_PRICES = TypeAdapter(dict[str, ModelPrice])


def model_price(text: str) -> ModelPrice:
    """argparse type of --model-price: 'INPUT,OUTPUT' in US dollars per million tokens."""
    try:
        inp, out = (float(part) for part in text.split(","))
        return ModelPrice(input=inp, output=out)
    except (ValueError, ValidationError):
        raise argparse.ArgumentTypeError(f"{text!r} is not INPUT,OUTPUT dollars per million tokens, "
                                         "e.g. 3,15") from None


def operator_prices(environ: Mapping[str, str]) -> dict[str, ModelPrice]:
    """The platform's own model_prices (BGAGENT_MODEL_PRICES, JSON), as the services read them."""
    raw = environ.get("BGAGENT_MODEL_PRICES")
    try:
        return _PRICES.validate_json(raw) if raw else {}
    except ValidationError as exc:
        raise UsageError(f"BGAGENT_MODEL_PRICES is not a JSON object of prices: {exc.errors()[0]['msg']}") from exc


def check_repo_model(model_id: str, repo_prices: Mapping[str, ModelPrice], environ: Mapping[str, str], *,
                     today: date | None = None) -> list[str]:
    """Warnings for a repo's model; UsageError when it is retired or nobody prices it."""
    try:
        return vet_model(model_id, {**operator_prices(environ), **repo_prices}, today=today)
    except ModelCatalogError as exc:
        raise UsageError(str(exc), hint="pick a catalog model, or price this one with --model-price INPUT,OUTPUT "
                                        "(dollars per million tokens)") from exc


def stack_model_notices(environ: Mapping[str, str], repo_models: Mapping[str, str]) -> list[str]:
    """Notices for the stack's default model (BGAGENT_DEFAULT_MODEL_ID) and the onboarded repos' models."""
    return configured_model_notices(environ.get("BGAGENT_DEFAULT_MODEL_ID") or DEFAULT_MODEL_ID, repo_models)

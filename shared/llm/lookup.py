"""Finding a model in the catalog and pricing it; operator prices (`model_prices`) come first."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

from shared.llm.catalog import CATALOG, CatalogModel
from shared.llm.errors import UnknownModel
from shared.llm.prices import ModelPrice

# Bedrock's cross-region inference profiles prefix the model id with a geography.
_GEO_PREFIX = re.compile(r"^(us|eu|apac|jp|au|global)\.")
_BY_ID: dict[str, CatalogModel] = {
    model_id: entry for entry in CATALOG
    for model_id in (entry.model_id, *entry.aliases, *((entry.bedrock_id,) if entry.bedrock_id else ()))
}


def find_model(model_id: str) -> CatalogModel | None:
    """The catalog entry of an Anthropic id, a dated alias or a Bedrock id (with or without a geo prefix)."""
    return _BY_ID.get(model_id) or _BY_ID.get(_GEO_PREFIX.sub("", model_id, count=1))


def price_for(model_id: str, overrides: Mapping[str, ModelPrice] | None = None) -> ModelPrice:
    """The price of a model: the operator's, else the catalog's; UnknownModel when neither has one."""
    if overrides and model_id in overrides:
        return overrides[model_id]
    entry = find_model(model_id)
    if entry is None:
        raise UnknownModel(model_id)
    return entry.price


def provider_model_id(model_id: str, provider: Literal["anthropic", "bedrock"]) -> str:
    """The id to send to the provider: a catalog model's Bedrock id on Bedrock, the id as given otherwise."""
    entry = _BY_ID.get(model_id) if provider == "bedrock" else None
    return entry.bedrock_id if entry and entry.bedrock_id else model_id

"""Errors of the model catalog: a model nobody priced, or one past its end of life."""

from __future__ import annotations

from datetime import date


class ModelCatalogError(Exception):
    """Base of catalog errors; str() is a message a user can act on."""


class UnknownModel(ModelCatalogError):
    """Neither the catalog nor the operator gives this model a price, so no budget can be computed."""

    def __init__(self, model_id: str):
        super().__init__(f"unknown model {model_id!r}: it is not in the model catalog and no model_prices entry "
                         "prices it")
        self.model_id = model_id


class ModelRetired(ModelCatalogError):
    """The model is past its end-of-life date: the API no longer serves it."""

    def __init__(self, model_id: str, end_of_life: date, replacement: str):
        super().__init__(f"model {model_id!r} reached its end of life on {end_of_life.isoformat()}; "
                         f"use {replacement!r} instead")
        self.model_id, self.end_of_life, self.replacement = model_id, end_of_life, replacement


class EndpointExists(Exception):
    """A model endpoint of that name is registered already."""

    def __init__(self, name: str):
        super().__init__(f"model endpoint {name} is already registered")
        self.name = name

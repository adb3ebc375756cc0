"""The model settings every process that picks or prices a model shares (environment BGAGENT_*)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.llm.catalog import DEFAULT_MODEL_ID
from shared.llm.prices import ModelPrice


class ModelSettings(BaseSettings):
    """The default model and operator prices for models the catalog lacks (BGAGENT_MODEL_PRICES, JSON)."""

    model_config = SettingsConfigDict(env_prefix="BGAGENT_", extra="ignore")

    default_model_id: str = Field(DEFAULT_MODEL_ID, min_length=1)
    model_prices: dict[str, ModelPrice] = {}

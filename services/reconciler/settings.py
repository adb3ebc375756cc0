"""Reconciler settings."""

from pydantic import Field

from shared.settings import WorkerSettings


class ReconcilerSettings(WorkerSettings):
    # A counter changed this recently may be ahead of the (eventually consistent) index we count from.
    drift_grace_seconds: float = Field(10.0, ge=0)

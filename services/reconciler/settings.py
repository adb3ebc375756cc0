"""Reconciler settings."""

from pydantic import Field

from shared.compute.settings import ComputeSettings
from shared.settings import WorkerSettings


class ReconcilerSettings(WorkerSettings, ComputeSettings):
    # A counter changed this recently may be ahead of the (eventually consistent) index we count from.
    drift_grace_seconds: float = Field(10.0, ge=0)
    heartbeat_stale_seconds: float = Field(120.0, gt=0)
    heartbeat_grace_seconds: float = Field(300.0, gt=0, description="RUNNING with no heartbeat at all")
    max_session_seconds: float = Field(4 * 3600.0, gt=0)
    hydration_timeout_seconds: float = Field(600.0, gt=0)
    submitted_stale_seconds: float = Field(60.0, gt=0)
    finalizing_stale_seconds: float = Field(300.0, gt=0)
    # AWAITING_APPROVAL with no open request this long: the decision was taken but the task not handed back.
    decided_resume_seconds: float = Field(60.0, gt=0)
    queued_max_seconds: float = Field(24 * 3600.0, gt=0)
    # Announced events still pending this long after their transition lost their publisher: re-publish.
    outbox_stale_seconds: float = Field(10.0, gt=0)

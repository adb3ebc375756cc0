"""Outbox entries: the events a transition announces, stored pending on the task in the same write."""

from __future__ import annotations

from typing import Any, Sequence

from pydantic import BaseModel, ConfigDict

from shared.clock import new_id

OUTBOX_PENDING = "pending"  # the value of `outbox_pending`, the sparse OutboxIndex key, while entries wait


class OutboxEntry(BaseModel):
    """One announced event, serialized as it will be put on the bus."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    source: str
    detail_type: str
    detail: str
    created_at: str


def outbox_entries(details: Sequence[Any], now: str) -> dict[str, OutboxEntry]:
    """Pending entries for event details, keyed by sortable ids so they are published in order."""
    return {new_id(): OutboxEntry(source=d.source, detail_type=d.detail_type,
                                  detail=d.model_dump_json(exclude_none=True), created_at=now)
            for d in details}

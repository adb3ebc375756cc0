"""Which events each consuming service handles: the one table the topology's rules and queues, and every
service's HANDLERS, are built from."""

from __future__ import annotations

from pydantic import BaseModel

from shared.events.models import (
    AgentFinished,
    ComputeSessionStopped,
    EcsTaskStateChange,
    ReconcileTick,
    SlotReleased,
    TaskCancelled,
    TaskCompleted,
    TaskFailed,
    TaskHydrated,
    TaskSubmitted,
    TaskTimedOut,
)

CONSUMES: dict[str, tuple[type[BaseModel], ...]] = {
    "hydrator": (TaskSubmitted, SlotReleased),
    "dispatcher": (TaskHydrated, TaskCancelled),
    "finalizer": (AgentFinished, ComputeSessionStopped, EcsTaskStateChange),
    # The reconciler also drives evaluation runs: each attempt's end is counted and frees a place for the next.
    "reconciler": (ReconcileTick, TaskCompleted, TaskFailed, TaskTimedOut, TaskCancelled),
}


def by_source(service: str) -> dict[str, tuple[str, ...]]:
    """A service's subscription as EventBridge matches it: detail-types grouped by source."""
    grouped: dict[str, list[str]] = {}
    for model in CONSUMES[service]:
        grouped.setdefault(model.source, []).append(model.detail_type)  # type: ignore[attr-defined]
    return {source: tuple(types) for source, types in grouped.items()}

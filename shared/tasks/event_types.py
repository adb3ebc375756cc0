"""Every event type a task's trail can hold: writers are typed against it, readers find words for each."""

from __future__ import annotations

from typing import Literal, get_args

EventType = Literal[
    "transition",  # a status change, written with it (shared/tasks/plan.py)
    "model.deprecated", "hydration.degraded", "compute.stop_requested",
    "agent.started", "agent.turn", "agent.command_refused", "agent.tests", "agent.pushed", "agent.pull_request",
    "agent.finished", "sandbox.egress", "workspace.limits",
    "agent.diff", "agent.graded",  # an evaluation attempt: its diff stored, its grade by the hidden tests
    "nudge.received", "nudge.delivered",
    "approval.requested", "approval.approved", "approval.denied", "approval.expired",
]
EVENT_TYPES: frozenset[str] = frozenset(get_args(EventType))

"""The task state machine of the reference design: states and allowed transitions."""

from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    SUBMITTED = "SUBMITTED"
    QUEUED = "QUEUED"
    HYDRATING = "HYDRATING"
    RUNNING = "RUNNING"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    FINALIZING = "FINALIZING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMED_OUT = "TIMED_OUT"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED, TaskStatus.TIMED_OUT})
ACTIVE = frozenset(TaskStatus) - TERMINAL
# Accepted, no agent yet: waiting for a slot or for its context.
PENDING = frozenset({TaskStatus.SUBMITTED, TaskStatus.QUEUED, TaskStatus.HYDRATING})
# The agent is alive: working, or holding a command back until a person decides.
AGENT_LIVE = frozenset({TaskStatus.RUNNING, TaskStatus.AWAITING_APPROVAL})
# Past these the result is being recorded: too late to cancel.
CANCELLABLE = PENDING | AGENT_LIVE

S = TaskStatus
ALLOWED: dict[TaskStatus, frozenset[TaskStatus]] = {
    S.SUBMITTED: frozenset({S.HYDRATING, S.QUEUED, S.FAILED, S.CANCELLED}),
    S.QUEUED: frozenset({S.HYDRATING, S.FAILED, S.CANCELLED}),
    S.HYDRATING: frozenset({S.RUNNING, S.FAILED, S.CANCELLED}),
    S.RUNNING: frozenset({S.FINALIZING, S.FAILED, S.TIMED_OUT, S.CANCELLED, S.AWAITING_APPROVAL}),
    # Left only through a decision (or its timeout), max duration, or cancellation.
    S.AWAITING_APPROVAL: frozenset({S.RUNNING, S.TIMED_OUT, S.CANCELLED}),
    S.FINALIZING: frozenset({S.COMPLETED, S.FAILED}),
    S.COMPLETED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
    S.TIMED_OUT: frozenset(),
}

# How far along the pipeline a state is; every terminal state is furthest.
_PROGRESS = {S.SUBMITTED: 0, S.QUEUED: 1, S.HYDRATING: 2, S.RUNNING: 3, S.AWAITING_APPROVAL: 3,
             S.FINALIZING: 4}


def can_transition(current: TaskStatus, target: TaskStatus) -> bool:
    """Whether the design allows moving a task from `current` to `target`."""
    return target in ALLOWED[current]


def progress(status: TaskStatus) -> int:
    return _PROGRESS.get(status, 5)


def is_at_or_past(current: TaskStatus, target: TaskStatus) -> bool:
    """Whether a task in `current` has already reached or gone beyond `target`."""
    if current == target:
        return True
    return progress(current) >= progress(target) if not target.is_terminal else current.is_terminal


def acquires_slot(target: TaskStatus) -> bool:
    """Admission: entering HYDRATING takes one of the user's concurrency slots."""
    return target == S.HYDRATING

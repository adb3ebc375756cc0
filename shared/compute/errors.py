"""Errors of compute strategies."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.compute.sessions import Claim


class ComputeError(Exception):
    """A session could not be started or stopped."""


class ComputeStartFailed(ComputeError):
    """The session did not start; `retryable` says whether another try can help."""

    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


class SessionTaken(ComputeError):
    """A warm session someone already claimed or called off; `current` is the standing claim."""

    def __init__(self, current: Claim):
        super().__init__(f"session of task {current.task_id} is already {current.state}")
        self.current = current

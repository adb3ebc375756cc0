"""Errors of compute strategies."""


class ComputeError(Exception):
    """A session could not be started or stopped."""


class ComputeStartFailed(ComputeError):
    """The session did not start; `retryable` says whether another try can help."""

    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.retryable = retryable

"""Errors of git host calls, split by whether trying again can help."""


class GitHostError(Exception):
    """Base of git host errors."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class GitHostUnavailable(GitHostError):
    """The host did not answer or answered 5xx/429: worth retrying."""


class GitHostNotFound(GitHostError):
    """The repository, issue or branch does not exist (or the token cannot see it)."""


class GitHostAuthError(GitHostError):
    """The token was refused."""


class GitHostRejected(GitHostError):
    """The host refused the request as invalid (422 and other 4xx)."""

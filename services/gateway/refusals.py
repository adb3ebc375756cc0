"""Why the gateway's own logic declines a request; the routes turn these into HTTP answers."""

from __future__ import annotations

from shared.pull_outcomes.access import not_yours


class Refused(Exception):
    """A request the platform will not carry out; the message is safe to show the caller."""


class RepoNotOnboarded(Refused):
    def __init__(self, repo: str, *, anymore: bool = False):
        super().__init__(f"repository {repo} is {'no longer' if anymore else 'not'} onboarded")


class KeyUsedElsewhere(Refused):
    """An idempotency key already bound to another user's request."""


class NotCancellable(Refused):
    """The task is FINALIZING or terminal."""


class TryAgainShortly(Refused):
    """A state that settles by itself: the same request will succeed a moment later."""


class InvalidField(Refused):
    """A well-formed request that the platform cannot act on because of one field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class PrNotYours(InvalidField):
    """A PR task on a pull request no task of this user opened, on a repo that keeps PR work to its opener."""

    def __init__(self, repo: str, pr_number: int):
        super().__init__("pr_number", not_yours(repo, pr_number))

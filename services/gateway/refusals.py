"""Why the gateway declines a request: one class per API error code; routes/refusals.py answers them."""

from __future__ import annotations

from pydantic import ValidationError

from services.gateway.errors import STATUS
from services.gateway.ratelimit import retry_after_header
from shared.pull_outcomes.access import not_yours


class Refused(Exception):
    """A request the platform will not carry out; the message is safe to show the caller."""

    code: str  # the API error code; STATUS gives its HTTP status

    def __init__(self, message: str, *, details: list[dict[str, str]] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}

    @property
    def status(self) -> int:
        return STATUS[self.code]

    def field_errors(self) -> dict[str, str]:
        """The first message for each field the details name: what a form marks."""
        found: dict[str, str] = {}
        for detail in self.details or ():
            found.setdefault(detail["field"], detail["message"])
        return found


class InvalidRequest(Refused):
    """A request the API cannot read or act on as given; the details name the fields at fault."""

    code = "VALIDATION_ERROR"

    @classmethod
    def naming(cls, message: str, exc: ValidationError) -> InvalidRequest:
        """The refusal of a body pydantic found at fault, each field by its dotted path."""
        return cls(message, details=[{"field": ".".join(map(str, e["loc"])) or "body", "message": e["msg"]}
                                     for e in exc.errors()])


class InvalidField(InvalidRequest):
    """A well-formed request that the platform cannot act on because of one field."""

    def __init__(self, field: str, message: str):
        super().__init__(message, details=[{"field": field, "message": message}])
        self.field = field


class PrNotYours(InvalidField):
    """A PR task on a pull request no task of this user opened, on a repo that keeps PR work to its opener."""

    code = "PR_NOT_YOURS"

    def __init__(self, repo: str, pr_number: int):
        super().__init__("pr_number", not_yours(repo, pr_number))


class EngineUnavailable(InvalidField):
    """A task (or a schedule's) whose engine, its own or inherited, this deployment does not have."""

    code = "ENGINE_UNAVAILABLE"

    def __init__(self, message: str):
        super().__init__("engine", message)


class AttachmentRefused(InvalidField):
    """An attachment that is not what it says, too large, too many or badly named; its code says which."""

    def __init__(self, code: str, message: str, index: int | None):
        super().__init__("attachments" + (f".{index}" if index is not None else ""), message)
        self.code = code  # one class for the four ATTACHMENT_* codes


class Unauthorized(Refused):
    """No credentials, or credentials that do not prove who the caller is."""

    code = "UNAUTHORIZED"


class Unavailable(Refused):
    """Something the request needs is missing or down on this platform."""

    code = "SERVICE_UNAVAILABLE"


class TryAgainShortly(Unavailable):
    """A state that settles by itself: the same request will succeed a moment later."""


class RateLimited(Refused):
    """Too many requests of this kind; Retry-After says when the next one is welcome."""

    code = "RATE_LIMIT_EXCEEDED"

    def __init__(self, message: str, *, wait: float):
        super().__init__(message, headers=retry_after_header(wait))


class NoSuchTask(Refused):
    """A task that does not exist, or is another user's (which answers the same)."""

    code = "TASK_NOT_FOUND"


class NoDiff(Refused):
    """The task keeps no diff: only evaluation attempts do (any other task's change is on its branch and PR)."""

    code = "DIFF_NOT_FOUND"


class NoSuchWebhook(Refused):
    code = "WEBHOOK_NOT_FOUND"


class NoSuchSchedule(Refused):
    code = "SCHEDULE_NOT_FOUND"


class NoSuchEval(Refused):
    """An evaluation run that does not exist, or is another user's (which answers the same)."""

    code = "EVAL_NOT_FOUND"


class EvalNotRunning(Refused):
    """Cancelling a run that is already completed or cancelled."""

    code = "EVAL_NOT_RUNNING"


class NoSuchModelEndpoint(Refused):
    code = "MODEL_ENDPOINT_NOT_FOUND"


class ModelEndpointTaken(Refused):
    code = "MODEL_ENDPOINT_EXISTS"


class Forbidden(Refused):
    """An operator's route called by someone without the operator role."""

    code = "FORBIDDEN"


class RepoNotOnboarded(Refused):
    code = "REPO_NOT_ONBOARDED"

    def __init__(self, repo: str, *, anymore: bool = False):
        super().__init__(f"repository {repo} is {'no longer' if anymore else 'not'} onboarded")


class PrNotFound(Refused):
    """A PR task on a pull request the git host says does not exist."""

    code = "PR_NOT_FOUND"


class KeyUsedElsewhere(Refused):
    """An idempotency key already bound to another user's request."""

    code = "DUPLICATE_TASK"


class NotCancellable(Refused):
    """The task is FINALIZING or terminal."""

    code = "TASK_ALREADY_TERMINAL"


class AlreadyRevoked(Refused):
    code = "WEBHOOK_ALREADY_REVOKED"


class TaskNotRunning(Refused):
    """Steering a task that is not RUNNING."""

    code = "TASK_NOT_RUNNING"


class ApprovalNotPending(Refused):
    """Deciding an approval that is unknown, expired or decided already."""

    code = "APPROVAL_NOT_PENDING"

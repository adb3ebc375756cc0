"""The one place where the gateway's typed refusals and store errors become API error codes."""

from __future__ import annotations

import uuid

from fastapi import FastAPI, Request

from services.gateway.middleware import error_response
from services.gateway.refusals import (
    InvalidField,
    KeyUsedElsewhere,
    NotCancellable,
    PrNotYours,
    RepoNotOnboarded,
    TryAgainShortly,
)
from shared.aws.errors import StoreUnavailable
from shared.tasks.errors import TaskNotFound

CODES: dict[type[Exception], str] = {
    PrNotYours: "PR_NOT_YOURS",
    InvalidField: "VALIDATION_ERROR",
    RepoNotOnboarded: "REPO_NOT_ONBOARDED",
    KeyUsedElsewhere: "DUPLICATE_TASK",
    NotCancellable: "TASK_ALREADY_TERMINAL",
    TryAgainShortly: "SERVICE_UNAVAILABLE",
    TaskNotFound: "TASK_NOT_FOUND",
    StoreUnavailable: "SERVICE_UNAVAILABLE",
}
# The store's own words may name tables or AWS error codes: callers get a plain sentence instead.
_PLAIN: dict[type[Exception], str] = {StoreUnavailable: "the platform's data store is unavailable; retry shortly"}


def _kind(exc: Exception) -> type[Exception]:
    return next(k for k in type(exc).__mro__ if k in CODES)


def code_of(exc: Exception) -> str:
    """The API error code of a refusal or store error (its nearest listed class)."""
    return CODES[_kind(exc)]


def install(app: FastAPI) -> None:
    """Answer each refusal with its code in the error envelope."""

    async def refused(request: Request, exc: Exception):
        message = _PLAIN.get(_kind(exc), str(exc))
        details = [{"field": exc.field, "message": message}] if isinstance(exc, InvalidField) else None
        return error_response(code_of(exc), message, getattr(request.state, "request_id", None) or str(uuid.uuid4()),
                              details=details)

    for kind in CODES:
        app.add_exception_handler(kind, refused)

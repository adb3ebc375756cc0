"""The one handler of refusals: the API answers with the error envelope, the panel with a page."""

from __future__ import annotations

import uuid
from typing import Any, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from services.gateway.middleware import error_response
from services.gateway.refusals import AttachmentRefused, InvalidRequest, NoSuchTask, Refused, Unavailable
from services.gateway.ui.refused import is_panel_path, refused_page
from shared.attachments.errors import AttachmentRejected
from shared.aws.errors import StoreUnavailable
from shared.tasks.errors import TaskNotFound

# The store's own words may name tables or AWS error codes: callers get a plain sentence instead.
_STORE_DOWN = "the platform's data store is unavailable; retry shortly"


def _detail(error: dict) -> dict:
    """One validation error as {field, message}: the field without its location prefix (body, query …)."""
    loc = [str(p) for p in error.get("loc", ())]
    if error.get("type") == "json_invalid":
        return {"field": "body", "message": f"malformed JSON: {error.get('ctx', {}).get('error', 'decode error')}"}
    return {"field": ".".join(loc[1:]) or (loc[0] if loc else "body"), "message": error.get("msg", "")}


# What an error of a lower layer (store, attachments, request parsing) means to the caller.
_MEANS: dict[type[Exception], Callable[[Any], Refused]] = {
    StoreUnavailable: lambda exc: Unavailable(_STORE_DOWN),
    TaskNotFound: lambda exc: NoSuchTask(str(exc)),
    AttachmentRejected: lambda exc: AttachmentRefused(exc.code, exc.message, exc.index),
    RequestValidationError: lambda exc: InvalidRequest("the request is not valid",
                                                       details=[_detail(e) for e in exc.errors()]),
}


def as_refusal(exc: Exception) -> Refused:
    """The refusal an error means to the caller: itself, or the nearest listed kind's meaning."""
    if isinstance(exc, Refused):
        return exc
    return next(_MEANS[kind] for kind in type(exc).__mro__ if kind in _MEANS)(exc)


async def answer(request: Request, exc: Exception) -> Response:
    """Errors become HTTP answers here only: a page for the panel, the envelope for the API."""
    refusal = as_refusal(exc)
    if is_panel_path(request.url.path):
        return await refused_page(request, refusal)
    request_id = getattr(request.state, "request_id", None) or str(uuid.uuid4())
    return error_response(refusal.code, refusal.message, request_id, details=refusal.details,
                          headers=refusal.headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(Refused, answer)
    for kind in _MEANS:
        app.add_exception_handler(kind, answer)

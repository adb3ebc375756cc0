"""The gateway's FastAPI application: routes, auth, request ids and the error envelope."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.gateway.deps import GatewayDeps
from services.gateway.errors import ApiError, envelope
from services.gateway.routes import tasks
from shared.observability.logging import log_context

log = logging.getLogger(__name__)

_HTTP_CODES = {401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
               413: "PAYLOAD_TOO_LARGE", 429: "RATE_LIMIT_EXCEEDED", 503: "SERVICE_UNAVAILABLE"}


def _error(request: Request, code: str, message: str, status: int, details: list | None = None) -> JSONResponse:
    rid = getattr(request.state, "request_id", None) or str(uuid.uuid4())
    return JSONResponse(envelope(code, message, rid, details), status_code=status, headers={"X-Request-Id": rid})


def create_app(d: GatewayDeps) -> FastAPI:
    """The gateway app wired to its collaborators."""
    app = FastAPI(title="bgagent API", version="1.0.0", docs_url="/docs", openapi_url="/openapi.json")
    app.state.deps = d
    app.include_router(tasks.router)

    @app.middleware("http")
    async def request_context(request: Request, call_next):
        rid = request.headers.get("x-request-id") or str(uuid.uuid4())
        rid = rid if len(rid) <= 128 and rid.isprintable() else str(uuid.uuid4())
        request.state.request_id = rid
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > d.settings.max_body_bytes:
            return _error(request, "PAYLOAD_TOO_LARGE", f"body exceeds {d.settings.max_body_bytes} bytes", 413)
        with log_context(request_id=rid):
            try:
                response = await call_next(request)
            except Exception:  # never a stack trace to the client
                log.exception("unhandled error", extra={"path": request.url.path})
                response = _error(request, "INTERNAL_ERROR", "internal error", 500)
        response.headers["X-Request-Id"] = rid
        return response

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return _error(request, exc.code, exc.message, exc.status, exc.details)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        details = [{"field": ".".join(str(p) for p in e.get("loc", [])[1:]) or "body", "message": e.get("msg", "")}
                   for e in exc.errors()]
        return _error(request, "VALIDATION_ERROR", "the request is not valid", 400, details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        code = _HTTP_CODES.get(exc.status_code, "VALIDATION_ERROR" if exc.status_code < 500 else "INTERNAL_ERROR")
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code < 500 else code.lower()
        return _error(request, code, message, exc.status_code)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict:
        return {"data": {"status": "ok"}}

    if d.local_issuer is not None:
        @app.get("/.well-known/jwks.json", include_in_schema=False)
        async def jwks() -> dict:
            return d.local_issuer.jwks()

    return app

"""ASGI middleware: request ids, the access log, last-resort errors and the request-body limit."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.errors import STATUS, envelope
from shared.observability.logging import log_context
from shared.observability.tracing import traced

log = logging.getLogger("services.gateway.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def error_response(code: str, message: str, request_id: str, *, details: list | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """The error envelope as a response."""
    return JSONResponse(envelope(code, message, request_id, details), status_code=STATUS[code],
                        headers={**(headers or {}), "X-Request-Id": request_id})


class RequestContext:
    """Gives every request an id (the caller's X-Request-Id if sane), echoes it on every response,
    logs one access line, and turns any unhandled exception into a 500 envelope without a trace."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        rid = given if _REQUEST_ID.match(given) else str(uuid.uuid4())
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        status: list[int] = []

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-Id"] = rid
                status.append(message["status"])
            await send(message)

        started = time.monotonic()
        trace = Headers(scope=scope).get("x-amzn-trace-id")  # set by the ALB; continues the caller's trace
        with log_context(request_id=rid):
            try:
                async with traced("gateway", trace, request_id=rid, path=scope.get("path")):
                    await self.app(scope, receive, send_with_id)
            except Exception:
                log.exception("unhandled error", extra={"path": scope.get("path")})
                if status:
                    raise
                await error_response("INTERNAL_ERROR", "internal error", rid)(scope, receive, send_with_id)
            finally:
                log.info("request", extra={
                    "method": scope.get("method"), "path": scope.get("path"), "status": status[0] if status else None,
                    "user_id": state.get("user_id"), "duration_ms": round((time.monotonic() - started) * 1000, 1)})


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuses request bodies over `max_bytes` with 413 PAYLOAD_TOO_LARGE, counting the bytes actually
    received, so a chunked body without Content-Length is held to the same limit."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[tuple[str, str], int] | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self._larger = larger or {}  # (method, path) → a route's own limit (task creation with attachments)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = scope.get("state", {}).get("request_id") or str(uuid.uuid4())
        limit = self._larger.get((scope.get("method", ""), scope.get("path", "")), self.max_bytes)
        too_large = error_response("PAYLOAD_TOO_LARGE", f"the request body exceeds {limit} bytes", rid)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await too_large(scope, receive, send)
            return
        received = 0
        exceeded = False
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if exceeded:
                return  # whatever the app made of the interrupted body, the answer is 413
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLarge:
            pass
        except Exception:
            if not exceeded:
                raise
        if exceeded and not response_started:
            await too_large(scope, receive, send)

"""The gateway's FastAPI application: routes, middleware and one error envelope for every failure."""

from __future__ import annotations

import re
import uuid

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.gateway import openapi
from services.gateway.deps import GatewayDeps
from services.gateway.middleware import BodyLimit, RequestContext, error_response
from services.gateway.routes import (
    evals,
    github,
    model_endpoints,
    refusals,
    schedules,
    signed_webhooks,
    steering,
    streams,
    tasks,
    ui_login,
    webhooks,
)
from services.gateway.schemas import Health, HealthResponse
from services.gateway.ui import mount as panel

_HTTP_CODES = {400: "VALIDATION_ERROR", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
               405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE", 429: "RATE_LIMIT_EXCEEDED",
               503: "SERVICE_UNAVAILABLE"}

DESCRIPTION = """Submit coding tasks to background agents, follow them, cancel them.

Every response is an envelope, `{"data": ...}` or `{"error": {"code", "message", "request_id"}}`, and carries
`X-Request-Id`. Another user's task or webhook answers exactly like a missing one (404)."""


def _allowed_methods(app: FastAPI, path: str) -> str:
    """Every documented method of the path (Starlette's 405 names only one route's methods)."""
    paths = app.openapi().get("paths", {})
    if path in paths:  # a literal route shadows templated ones, as in routing
        matching = [paths[path]]
    else:
        matching = [ops for template, ops in paths.items()
                    if re.match("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$", path)]
    return ", ".join(sorted({m.upper() for ops in matching for m in ops if m in _HTTP_METHODS}))


_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "options", "head"}


def create_app(d: GatewayDeps) -> FastAPI:
    """The gateway app wired to its collaborators."""
    app = FastAPI(title="bgagent API", version="1.0.0", description=DESCRIPTION,
                  docs_url="/docs", redoc_url=None, openapi_url="/openapi.json",
                  generate_unique_id_function=openapi.operation_id)
    app.state.deps = d
    for router in (tasks.router, streams.router, steering.router, signed_webhooks.router, webhooks.router,
                   github.router, schedules.router, evals.router,
                   model_endpoints.router, ui_login.router):
        app.include_router(router)
    panel.install(app)
    # Added last = outermost: the request id exists before the body limit can answer.
    task_routes = {("POST", "/v1/tasks"): d.settings.max_task_body_bytes,
                   ("POST", "/v1/webhooks/tasks"): d.settings.max_task_body_bytes,
                   ("POST", "/v1/evals"): d.settings.eval_max_body_bytes}
    app.add_middleware(BodyLimit, max_bytes=d.settings.max_body_bytes, larger=task_routes)
    app.add_middleware(RequestContext)
    openapi.install(app)
    refusals.install(app)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        code = _HTTP_CODES.get(exc.status_code, "VALIDATION_ERROR" if exc.status_code < 500 else "INTERNAL_ERROR")
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code < 500 else code.lower()
        headers = {"Allow": _allowed_methods(app, request.url.path)} if exc.status_code == 405 else {}
        return error_response(code, message, getattr(request.state, "request_id", None) or str(uuid.uuid4()),
                              headers=headers)

    @app.get("/healthz", tags=["health"], response_model=HealthResponse, responses=openapi.errors(*openapi.ALWAYS))
    async def get_health() -> HealthResponse:
        return HealthResponse(data=Health(status="ok"))

    issuer = d.local_issuer
    if issuer is not None:
        @app.get("/.well-known/jwks.json", include_in_schema=False)
        async def jwks() -> dict:
            return issuer.jwks()

    return app

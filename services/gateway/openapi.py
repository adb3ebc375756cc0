"""The OpenAPI document: every route declares the error codes it can answer with, in the envelope."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from services.gateway.errors import STATUS
from services.gateway.schemas import ErrorResponse

# What any route may answer: a request id on every response, a last-resort 500.
ALWAYS = ("INTERNAL_ERROR",)
# What every route behind a bearer token may answer besides its own codes.
AUTHENTICATED = ("VALIDATION_ERROR", "UNAUTHORIZED", "SERVICE_UNAVAILABLE", *ALWAYS)
WRITES = ("RATE_LIMIT_EXCEEDED", "PAYLOAD_TOO_LARGE")

_REQUEST_ID = {"X-Request-Id": {"description": "the request's id (also in error bodies)", "schema": {"type": "string"}}}


def errors(*codes: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: one entry per status, naming the codes that come with it."""
    by_status: dict[int, list[str]] = {}
    for code in dict.fromkeys(codes):
        by_status.setdefault(STATUS[code], []).append(code)
    out: dict[int | str, dict[str, Any]] = {}
    for status, names in sorted(by_status.items()):
        entry: dict[str, Any] = {"model": ErrorResponse, "description": " / ".join(names)}
        if status == 429:
            entry["headers"] = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
        out[status] = entry
    return out


def operation_id(route: APIRoute) -> str:
    """A route's operationId is its function's name: what a generated client calls the operation."""
    return route.name


def success_headers(**extra: str) -> dict[str, Any]:
    """Headers of a success response, for the document."""
    return {**_REQUEST_ID, **{name.replace("_", "-"): {"description": text, "schema": {"type": "string"}}
                              for name, text in extra.items()}}


def install(app: FastAPI) -> None:
    """Generate the document once, without FastAPI's default 422 (this API answers 400 instead)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        for path in doc.get("paths", {}).values():
            for operation in path.values():
                responses = operation.get("responses", {})
                auto = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
                if auto.get("$ref", "").endswith("/HTTPValidationError"):
                    del responses["422"]
                for response in responses.values():
                    response.setdefault("headers", {}).update(_REQUEST_ID)
        schemas = doc.get("components", {}).get("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]

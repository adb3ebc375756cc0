"""Every response the gateway tests receive must be documented: its status on its route, its body by the schema."""

from __future__ import annotations

from functools import lru_cache
from typing import Iterator

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from jsonschema import Draft202012Validator

from services.gateway.schemas import ErrorResponse

_ERROR_SCHEMA = ErrorResponse.model_json_schema()


def documented_routes(app: FastAPI) -> Iterator[tuple[str, str, object]]:
    """(method, path template, route context) of every API route meant for the document."""
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute) and route.include_in_schema:
            for method in sorted(route.methods):
                yield method, route.path, route


def route_template(app: FastAPI, method: str, path: str) -> str | None:
    for route_method, template, route in documented_routes(app):
        if route_method == method and route.path_regex.match(path):
            return template
    return None


_DOC: dict = {}


def _document(app: FastAPI) -> dict:
    """The document, generated once per test session: every test app is built from the same routes."""
    if not _DOC:
        _DOC.update(app.openapi())
    return _DOC


@lru_cache(maxsize=256)
def _validator(template: str, method: str, status: str) -> Draft202012Validator:
    doc = _DOC
    operation = doc["paths"][template][method.lower()]
    assert status in operation["responses"], f"{method} {template} answered {status}, which is not documented"
    content = operation["responses"][status].get("content", {}).get("application/json")
    assert content and content.get("schema"), f"{method} {template} {status} documents no JSON body"
    return Draft202012Validator({**content["schema"], "components": doc.get("components", {})})


def check_response(app: FastAPI, method: str, path: str, status: int, body: object, headers) -> None:
    """Assert that a response conforms to the app's OpenAPI document."""
    assert headers.get("x-request-id"), f"{method} {path} {status} has no X-Request-Id"
    template = route_template(app, method, path)
    if template is None:  # the document itself, or an unknown route or method: then the error envelope
        if status >= 400:
            Draft202012Validator(_ERROR_SCHEMA).validate(body)
        return
    doc = _document(app)
    for streamed in ("text/event-stream", "application/x-ndjson", "text/x-diff"):
        if headers.get("content-type", "").startswith(streamed):
            documented = doc["paths"][template][method.lower()]["responses"].get(str(status), {}).get("content", {})
            assert streamed in documented, f"{method} {template} {status} documents no {streamed} stream"
            return
    _validator(template, method, str(status)).validate(body)

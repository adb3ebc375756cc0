"""The OpenAPI document matches the app: every route, its status codes, and bodies in the envelope."""

from __future__ import annotations

import re

import pytest
from jsonschema.exceptions import ValidationError
from openapi_spec_validator import validate

from tests.gateway.openapi_check import check_response, documented_routes

EXPECTED = {
    ("POST", "/v1/tasks"): {200, 201, 400, 401, 403, 409, 413, 422, 429, 500, 503},
    ("GET", "/v1/tasks"): {200, 400, 401, 500, 503},
    ("GET", "/v1/tasks/{task_id}"): {200, 400, 401, 404, 500, 503},
    ("GET", "/v1/tasks/{task_id}/diff"): {200, 400, 401, 404, 500, 503},
    ("DELETE", "/v1/tasks/{task_id}"): {200, 400, 401, 404, 409, 429, 500, 503},
    ("GET", "/v1/tasks/{task_id}/events"): {200, 400, 401, 404, 500, 503},
    ("GET", "/v1/tasks/{task_id}/events/stream"): {200, 400, 401, 404, 429, 500, 503},
    ("POST", "/v1/tasks/{task_id}/nudge"): {202, 400, 401, 404, 409, 413, 429, 500, 503},
    ("POST", "/v1/tasks/{task_id}/approve"): {202, 400, 401, 404, 409, 413, 429, 500, 503},
    ("POST", "/v1/tasks/{task_id}/deny"): {202, 400, 401, 404, 409, 413, 429, 500, 503},
    ("GET", "/v1/pending"): {200, 400, 401, 500, 503},
    ("POST", "/v1/webhooks"): {201, 400, 401, 413, 429, 500, 503},
    ("GET", "/v1/webhooks"): {200, 400, 401, 500, 503},
    ("DELETE", "/v1/webhooks/{webhook_id}"): {200, 400, 401, 404, 409, 429, 500, 503},
    ("POST", "/v1/webhooks/tasks"): {200, 201, 400, 401, 403, 409, 413, 422, 429, 500, 503},
    ("POST", "/v1/github/events"): {200, 201, 400, 401, 409, 413, 500, 503},
    ("GET", "/healthz"): {200, 500},
    ("POST", "/v1/schedules"): {201, 400, 401, 403, 413, 422, 429, 500, 503},
    ("GET", "/v1/schedules"): {200, 400, 401, 500, 503},
    ("GET", "/v1/schedules/{schedule_id}"): {200, 400, 401, 404, 500, 503},
    ("PATCH", "/v1/schedules/{schedule_id}"): {200, 400, 401, 403, 404, 413, 422, 429, 500, 503},
    ("DELETE", "/v1/schedules/{schedule_id}"): {200, 400, 401, 404, 429, 500, 503},
    ("POST", "/v1/ui/login-links"): {201, 400, 401, 413, 429, 500, 503},
    ("POST", "/v1/evals"): {201, 400, 401, 413, 429, 500, 503},
    ("GET", "/v1/evals"): {200, 400, 401, 500, 503},
    ("GET", "/v1/evals/{eval_id}"): {200, 400, 401, 404, 500, 503},
    ("DELETE", "/v1/evals/{eval_id}"): {200, 400, 401, 404, 409, 429, 500, 503},
    ("GET", "/v1/evals/{eval_id}/rollouts"): {200, 400, 401, 404, 500, 503},
    ("POST", "/v1/model-endpoints"): {201, 400, 401, 403, 409, 413, 429, 500, 503},
    ("GET", "/v1/model-endpoints"): {200, 400, 401, 500, 503},
    ("DELETE", "/v1/model-endpoints/{name}"): {200, 400, 401, 403, 404, 429, 500, 503},
}


async def test_the_document_is_served_and_valid(gw):
    async with gw.client(check=False) as c:
        doc = (await c.get("/openapi.json")).json()
        docs = await c.get("/docs")
    validate(doc)
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


# What a generated client calls each operation: a rename here is a visible change of the API.
OPERATIONS = {
    ("POST", "/v1/tasks"): "create_task",
    ("GET", "/v1/tasks"): "list_tasks",
    ("GET", "/v1/tasks/{task_id}"): "get_task",
    ("GET", "/v1/tasks/{task_id}/diff"): "get_task_diff",
    ("DELETE", "/v1/tasks/{task_id}"): "cancel_task",
    ("GET", "/v1/tasks/{task_id}/events"): "list_task_events",
    ("GET", "/v1/tasks/{task_id}/events/stream"): "stream_task_events",
    ("POST", "/v1/tasks/{task_id}/nudge"): "nudge_task",
    ("POST", "/v1/tasks/{task_id}/approve"): "approve_task",
    ("POST", "/v1/tasks/{task_id}/deny"): "deny_task",
    ("GET", "/v1/pending"): "list_pending_approvals",
    ("POST", "/v1/webhooks"): "create_webhook",
    ("GET", "/v1/webhooks"): "list_webhooks",
    ("DELETE", "/v1/webhooks/{webhook_id}"): "revoke_webhook",
    ("POST", "/v1/webhooks/tasks"): "create_task_from_webhook",
    ("POST", "/v1/github/events"): "receive_github_event",
    ("GET", "/healthz"): "get_health",
    ("POST", "/v1/schedules"): "create_schedule",
    ("GET", "/v1/schedules"): "list_schedules",
    ("GET", "/v1/schedules/{schedule_id}"): "get_schedule",
    ("PATCH", "/v1/schedules/{schedule_id}"): "update_schedule",
    ("DELETE", "/v1/schedules/{schedule_id}"): "delete_schedule",
    ("POST", "/v1/ui/login-links"): "create_login_link",
    ("POST", "/v1/evals"): "create_eval",
    ("GET", "/v1/evals"): "list_evals",
    ("GET", "/v1/evals/{eval_id}"): "get_eval",
    ("DELETE", "/v1/evals/{eval_id}"): "cancel_eval",
    ("GET", "/v1/evals/{eval_id}/rollouts"): "get_eval_rollouts",
    ("POST", "/v1/model-endpoints"): "create_model_endpoint",
    ("GET", "/v1/model-endpoints"): "list_model_endpoints",
    ("DELETE", "/v1/model-endpoints/{name}"): "delete_model_endpoint",
}


def test_every_operation_has_a_clean_stable_id(gw):
    doc = gw.app.openapi()
    found = {(method.upper(), path): op["operationId"] for path, ops in doc["paths"].items()
             for method, op in ops.items()}
    assert found == OPERATIONS
    assert len(set(found.values())) == len(found)
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", name) for name in found.values())


async def test_every_route_is_documented_with_its_status_codes(gw):
    doc = gw.app.openapi()
    routes = {(method, path) for method, path, _ in documented_routes(gw.app)}
    assert routes == set(EXPECTED)
    for (method, path), statuses in EXPECTED.items():
        operation = doc["paths"][path][method.lower()]
        assert {int(s) for s in operation["responses"]} == statuses, (method, path)
        for status, response in operation["responses"].items():
            content = response["content"]
            schema = (content.get("application/json") or content.get("text/event-stream")
                      or content.get("application/x-ndjson") or content["text/x-diff"])["schema"]
            if int(status) >= 400:
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, status)
            assert "X-Request-Id" in response["headers"]


async def test_no_route_documents_fastapis_default_422(gw):
    doc = gw.app.openapi()
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if (method.upper(), path) not in {("POST", "/v1/tasks"), ("POST", "/v1/webhooks/tasks"),
                                              ("POST", "/v1/schedules"), ("PATCH", "/v1/schedules/{schedule_id}")}:
                assert "422" not in operation["responses"], (method, path)


def test_the_response_check_rejects_undocumented_statuses_and_shapes(gw):
    headers = {"x-request-id": "r"}
    with pytest.raises(AssertionError, match="not documented"):
        check_response(gw.app, "GET", "/v1/tasks/abc", 409, {"error": {}}, headers)
    with pytest.raises(ValidationError):
        check_response(gw.app, "GET", "/v1/tasks/abc", 200, {"data": {"task_id": "x"}}, headers)
    with pytest.raises(AssertionError, match="X-Request-Id"):
        check_response(gw.app, "GET", "/healthz", 200, {"data": {"status": "ok"}}, {})

"""The edges every route shares: one error envelope, request ids, body limits, rate limits, no stack traces."""

from __future__ import annotations

import pytest

from shared.events.errors import PublishFailed
from tests.fakes.tasks import InMemoryTaskStore
from tests.gateway.conftest import build_gateway
from tests.gateway.signing import signed_webhook

CREATE = {"repo": "acme/app", "task_description": "x"}


def _is_envelope(resp, code: str) -> None:
    error = resp.json()["error"]
    assert error["code"] == code and error["request_id"] == resp.headers["x-request-id"] and error["message"]


async def test_health_needs_no_token(gw):
    async with gw.client() as c:
        resp = await c.get("/healthz")
    assert resp.status_code == 200 and resp.json() == {"data": {"status": "ok"}} and resp.headers["x-request-id"]


async def test_unknown_route_and_method_answer_in_the_envelope(gw):
    async with gw.client("alice") as c:
        missing = await c.get("/v1/nothing-here")
        wrong_method = await c.put("/v1/tasks")
    assert missing.status_code == 404
    _is_envelope(missing, "NOT_FOUND")
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["allow"]
    _is_envelope(wrong_method, "METHOD_NOT_ALLOWED")


async def test_a_sane_request_id_is_echoed_and_a_bad_one_replaced(gw):
    async with gw.client("alice") as c:
        echoed = await c.get("/v1/tasks", headers={"X-Request-Id": "req-123.abc"})
        replaced = await c.get("/v1/nothing", headers={"X-Request-Id": "bad id\twith<stuff>"})
    assert echoed.headers["x-request-id"] == "req-123.abc"
    assert replaced.headers["x-request-id"] != "bad id\twith<stuff>" and len(replaced.headers["x-request-id"]) == 36
    assert replaced.json()["error"]["request_id"] == replaced.headers["x-request-id"]


@pytest.mark.parametrize("content, content_type", [
    (b'{"repo": "acme/app",', "application/json"),
    (b"[]", "application/json"),
    (b"", "application/json"),
    (b'{"repo": "acme/app", "task_description": "x"}', "text/plain"),
])
async def test_malformed_or_mistyped_bodies_are_400(gw, content, content_type):
    async with gw.client("alice") as c:
        resp = await c.post("/v1/tasks", content=content, headers={"Content-Type": content_type})
    assert resp.status_code == 400
    _is_envelope(resp, "VALIDATION_ERROR")
    if content.endswith(b","):
        assert resp.json()["error"]["details"][0] == {"field": "body", "message": "malformed JSON: Expecting "
                                                      "property name enclosed in double quotes"}


async def test_a_body_over_the_limit_is_413_with_or_without_content_length(issuer):
    gw = build_gateway(issuer, max_body_bytes=2048, max_task_body_bytes=3072)
    big = b'{"repo": "acme/app", "task_description": "' + b"x" * 4096 + b'"}'

    async def chunks():
        for i in range(0, len(big), 512):
            yield big[i:i + 512]

    async with gw.client("alice") as c:
        declared = await c.post("/v1/tasks", content=big, headers={"Content-Type": "application/json"})
        chunked = await c.post("/v1/tasks", content=chunks(), headers={"Content-Type": "application/json"})
        to_webhook = await c.post("/v1/webhooks/tasks", content=chunks(), headers={"X-Webhook-Id": "x"})
        to_github = await c.post("/v1/github/events", content=chunks())
        small = await c.post("/v1/tasks", json=CREATE)
    for resp in (declared, chunked, to_webhook, to_github):
        assert resp.status_code == 413, resp.text
        _is_envelope(resp, "PAYLOAD_TOO_LARGE")
    assert "content-length" not in chunked.request.headers
    assert small.status_code == 201 and len(gw.tasks.tasks) == 1


async def test_the_default_body_limit_is_one_megabyte_and_task_creation_has_its_own(gw):
    assert gw.deps.settings.max_body_bytes == 1_048_576
    assert gw.deps.settings.max_task_body_bytes == 4_718_592  # 3 MB of attachments, base64-encoded
    async with gw.client("alice") as c:
        webhook = await c.post("/v1/webhooks", content=b" " * 1_048_577, headers={"Content-Type": "application/json"})
        task = await c.post("/v1/tasks", content=b" " * 4_718_593, headers={"Content-Type": "application/json"})
    assert webhook.status_code == 413 and task.status_code == 413


class BrokenStore(InMemoryTaskStore):
    async def get(self, task_id):
        raise RuntimeError("connection to /var/run/secret-internals.sock failed")


async def test_an_unexpected_error_is_a_500_without_any_trace(issuer, caplog):
    gw = build_gateway(issuer, tasks=BrokenStore())
    async with gw.client("alice") as c:
        resp = await c.get("/v1/tasks/01J0000000000000000000NONE")
    assert resp.status_code == 500
    _is_envelope(resp, "INTERNAL_ERROR")
    assert "secret-internals" not in resp.text and "Traceback" not in resp.text and "RuntimeError" not in resp.text
    assert "unhandled error" in caplog.text  # the trace goes to the log instead


async def test_creates_beyond_the_users_rate_are_429_with_retry_after(issuer):
    gw = build_gateway(issuer, rate_limit_per_second=0.5, rate_limit_burst=3)
    async with gw.client("alice") as c:
        codes = [(await c.post("/v1/tasks", json=CREATE)).status_code for _ in range(3)]
        limited = await c.post("/v1/tasks", json=CREATE)
        reads = await c.get("/v1/tasks")
    async with gw.client("bob") as c:
        other_user = await c.post("/v1/tasks", json=CREATE)
    assert codes == [201, 201, 201]
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    _is_envelope(limited, "RATE_LIMIT_EXCEEDED")
    assert reads.status_code == 200 and other_user.status_code == 201


async def test_signed_webhook_calls_count_against_the_owners_rate(issuer):
    gw = build_gateway(issuer, rate_limit_per_second=0.5, rate_limit_burst=2)
    async with gw.client("alice") as c:
        hook = (await c.post("/v1/webhooks", json={"name": "ci"})).json()["data"]
        codes = []
        for i in range(3):
            raw, headers = signed_webhook(hook["webhook_id"], hook["secret"], CREATE, delivery=f"d{i}")
            codes.append((await c.post("/v1/webhooks/tasks", content=raw, headers=headers)).status_code)
    assert codes == [201, 429, 429]  # the webhook creation took the first token


class FailingBus:
    async def publish(self, *details):
        raise PublishFailed("EventBridge refused 1 event(s)")


async def test_a_task_is_accepted_even_if_its_event_is_lost(issuer):
    gw = build_gateway(issuer, bus=FailingBus())
    async with gw.client("alice") as c:
        resp = await c.post("/v1/tasks", json=CREATE)
        cancel = await c.delete(f"/v1/tasks/{resp.json()['data']['task_id']}")
    assert resp.status_code == 201 and cancel.status_code == 200

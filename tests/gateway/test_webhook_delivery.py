"""POST /v1/webhooks/tasks: HMAC-signed task creation, deduplicated per delivery."""

from __future__ import annotations

import time

import pytest

from shared.events.models import TaskSubmitted
from tests.gateway.signing import signed_webhook

BODY = {"repo": "acme/app", "task_description": "Bump the dependencies"}


async def _webhook(gw, user: str = "alice") -> tuple[str, str]:
    async with gw.client(user) as c:
        hook = (await c.post("/v1/webhooks", json={"name": "ci"})).json()["data"]
    return hook["webhook_id"], hook["secret"]


async def _deliver(gw, raw: bytes, headers: dict):
    async with gw.client() as c:
        return await c.post("/v1/webhooks/tasks", content=raw, headers=headers)


async def test_a_signed_call_creates_a_task_owned_by_the_webhooks_user(gw):
    hook_id, secret = await _webhook(gw)
    resp = await _deliver(gw, *signed_webhook(hook_id, secret, BODY, delivery="d-1"))
    assert resp.status_code == 201, resp.text
    task = await gw.tasks.get(resp.json()["data"]["task_id"])
    assert task.user_id == "alice" and task.channel_source == "webhook"
    assert task.channel_metadata == {"webhook_id": hook_id, "source_ip": "203.0.113.7", "user_agent": "ci-bot/1.0",
                                     "delivery_id": "d-1"}
    assert [e.task_id for e in gw.bus.of(TaskSubmitted)] == [task.task_id]
    async with gw.client("alice") as c:
        assert (await c.get(f"/v1/tasks/{task.task_id}")).status_code == 200


async def test_a_retried_delivery_returns_the_original_task(gw):
    hook_id, secret = await _webhook(gw)
    first = await _deliver(gw, *signed_webhook(hook_id, secret, BODY, delivery="d-1"))
    # A retry is signed afresh (new timestamp), with the same delivery id.
    retry = await _deliver(gw, *signed_webhook(hook_id, secret, BODY, delivery="d-1", timestamp=int(time.time()) + 1))
    other = await _deliver(gw, *signed_webhook(hook_id, secret, BODY, delivery="d-2"))
    assert first.status_code == 201 and retry.status_code == 200 and other.status_code == 201
    assert retry.headers["idempotent-replay"] == "true"
    assert retry.json()["data"]["task_id"] == first.json()["data"]["task_id"] != other.json()["data"]["task_id"]
    assert len(gw.tasks.tasks) == 2


async def test_a_replayed_request_without_delivery_id_is_deduplicated_by_its_signature(gw):
    hook_id, secret = await _webhook(gw)
    raw, headers = signed_webhook(hook_id, secret, BODY)
    first, replay = await _deliver(gw, raw, headers), await _deliver(gw, raw, headers)
    assert (first.status_code, replay.status_code) == (201, 200)
    assert len(gw.tasks.tasks) == 1


def _tamper(case: str, hook_id: str, secret: str) -> tuple[bytes, dict]:
    raw, headers = signed_webhook(hook_id, secret, BODY)
    if case == "wrong secret":
        return signed_webhook(hook_id, "not-the-secret", BODY)
    if case == "body changed":
        return raw.replace(b"Bump", b"Drop"), headers
    if case == "expired":
        return signed_webhook(hook_id, secret, BODY, timestamp=int(time.time()) - 301)
    if case == "future":
        return signed_webhook(hook_id, secret, BODY, timestamp=int(time.time()) + 301)
    if case == "unknown webhook":
        return signed_webhook("01J0000000000000000000ZZZZ", secret, BODY)
    missing = {"no signature": "X-Webhook-Signature", "no timestamp": "X-Webhook-Timestamp", "no id": "X-Webhook-Id"}
    if case in missing:
        headers.pop(missing[case])
        return raw, headers
    if case == "garbage timestamp":
        headers["X-Webhook-Timestamp"] = "yesterday"
        return raw, headers
    if case == "bare hex":
        headers["X-Webhook-Signature"] = headers["X-Webhook-Signature"].removeprefix("sha256=")
        return raw, headers
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["wrong secret", "body changed", "expired", "future", "unknown webhook",
                                  "no signature", "no timestamp", "no id", "garbage timestamp", "bare hex"])
async def test_every_bad_signature_is_the_same_401(gw, case):
    hook_id, secret = await _webhook(gw)
    resp = await _deliver(gw, *_tamper(case, hook_id, secret))
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "UNAUTHORIZED"
    assert resp.json()["error"]["message"] == "the webhook request is not signed correctly"
    assert gw.tasks.tasks == {}


async def test_a_timestamp_just_inside_the_window_is_accepted(gw):
    hook_id, secret = await _webhook(gw)
    resp = await _deliver(gw, *signed_webhook(hook_id, secret, BODY, timestamp=int(time.time()) - 290))
    assert resp.status_code == 201


async def test_revoke_takes_effect_at_once_even_with_the_secret_cached(gw):
    hook_id, secret = await _webhook(gw)
    assert (await _deliver(gw, *signed_webhook(hook_id, secret, BODY, delivery="a"))).status_code == 201
    async with gw.client("alice") as c:
        assert (await c.delete(f"/v1/webhooks/{hook_id}")).status_code == 200
    resp = await _deliver(gw, *signed_webhook(hook_id, secret, BODY, delivery="b"))
    assert resp.status_code == 401 and resp.json()["error"]["message"] == "the webhook request is not signed correctly"
    assert len(gw.tasks.tasks) == 1


async def test_the_secret_is_read_from_secrets_manager_once_per_cache_period(gw):
    hook_id, secret = await _webhook(gw)
    for i in range(5):
        assert (await _deliver(gw, *signed_webhook(hook_id, secret, BODY, delivery=f"d{i}"))).status_code == 201
    assert gw.raw_secrets.reads == 1


async def test_the_body_is_validated_only_after_the_signature(gw):
    hook_id, secret = await _webhook(gw)
    unsigned = await _deliver(gw, b"{not json", {"X-Webhook-Id": hook_id, "X-Webhook-Timestamp": "1",
                                                "X-Webhook-Signature": "sha256=00"})
    bad_json = await _deliver(gw, *signed_webhook(hook_id, secret, b"{not json"))
    bad_body = await _deliver(gw, *signed_webhook(hook_id, secret, {"repo": "acme/app"}))
    unknown_repo = await _deliver(gw, *signed_webhook(hook_id, secret, {**BODY, "repo": "acme/unknown"}))
    bad_delivery = await _deliver(gw, *signed_webhook(hook_id, secret, BODY, delivery="has space"))
    assert unsigned.status_code == 401
    assert [r.status_code for r in (bad_json, bad_body, bad_delivery)] == [400, 400, 400]
    assert unknown_repo.status_code == 422 and unknown_repo.json()["error"]["code"] == "REPO_NOT_ONBOARDED"

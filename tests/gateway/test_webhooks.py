"""Webhook management: create (secret once), list (never the secret), revoke (soft, once)."""

from __future__ import annotations

import pytest


async def test_create_returns_the_secret_once_and_stores_it_in_secrets_manager(gw):
    async with gw.client("alice") as c:
        resp = await c.post("/v1/webhooks", json={"name": "ci"})
        listed = await c.get("/v1/webhooks")
    assert resp.status_code == 201
    hook = resp.json()["data"]
    assert hook["name"] == "ci" and hook["status"] == "active" and len(hook["secret"]) >= 40
    assert gw.raw_secrets.values == {f"bgagent/gwtest/webhooks/{hook['webhook_id']}": hook["secret"]}
    row = await gw.deps.webhooks.get(hook["webhook_id"])
    assert row.user_id == "alice" and "secret" not in row.model_dump()
    assert [h["webhook_id"] for h in listed.json()["data"]] == [hook["webhook_id"]]
    assert hook["secret"] not in listed.text and "secret" not in listed.json()["data"][0]


async def test_every_webhook_gets_its_own_secret(gw):
    async with gw.client("alice") as c:
        secrets = {(await c.post("/v1/webhooks", json={"name": f"h{i}"})).json()["data"]["secret"] for i in range(3)}
    assert len(secrets) == 3


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 101}, {"name": "ok", "secret": "mine"}])
async def test_invalid_webhook_bodies_are_400(gw, body):
    async with gw.client("alice") as c:
        resp = await c.post("/v1/webhooks", json=body)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "VALIDATION_ERROR"
    assert gw.raw_secrets.values == {}


async def test_listing_paginates_the_callers_webhooks(gw):
    async with gw.client("alice") as c:
        made = [(await c.post("/v1/webhooks", json={"name": f"h{i}"})).json()["data"]["webhook_id"] for i in range(5)]
        seen, token = [], None
        while True:
            body = (await c.get("/v1/webhooks", params={"limit": 2, **({"next_token": token} if token else {})})).json()
            seen += [h["webhook_id"] for h in body["data"]]
            token = body["pagination"]["next_token"]
            if not token:
                break
    async with gw.client("bob") as c:
        stolen = await c.get("/v1/webhooks", params={"next_token": (await _first_token(gw))})
    assert sorted(seen) == sorted(made)
    assert stolen.status_code == 400 and stolen.json()["error"]["code"] == "VALIDATION_ERROR"


async def _first_token(gw) -> str:
    async with gw.client("alice") as c:
        return (await c.get("/v1/webhooks", params={"limit": 1})).json()["pagination"]["next_token"]


async def test_revoke_is_soft_and_happens_once(gw):
    async with gw.client("alice") as c:
        hook = (await c.post("/v1/webhooks", json={"name": "ci"})).json()["data"]
        revoked = await c.delete(f"/v1/webhooks/{hook['webhook_id']}")
        again = await c.delete(f"/v1/webhooks/{hook['webhook_id']}")
        listed = (await c.get("/v1/webhooks")).json()["data"]
    assert revoked.status_code == 200
    assert revoked.json()["data"]["status"] == "revoked" and revoked.json()["data"]["revoked_at"]
    assert hook["secret"] not in revoked.text
    assert again.status_code == 409 and again.json()["error"]["code"] == "WEBHOOK_ALREADY_REVOKED"
    assert listed[0]["status"] == "revoked"
    assert gw.raw_secrets.deleted == [f"bgagent/gwtest/webhooks/{hook['webhook_id']}"]


async def test_revoke_of_a_missing_webhook_is_404(gw):
    async with gw.client("alice") as c:
        resp = await c.delete("/v1/webhooks/01J0000000000000000000ZZZZ")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "WEBHOOK_NOT_FOUND"

"""Owner-only access: on every route, another user's task or webhook answers exactly like a missing one."""

from __future__ import annotations

import pytest

from shared.tasks.models import Task

MISSING_TASK = "01J0000000000000000000NONE"
MISSING_HOOK = "01J0000000000000000000ZZZZ"


async def _alices_objects(gw) -> tuple[str, str]:
    task = await gw.tasks.create(Task.new(user_id="alice", repo="acme/app", task_description="mine"))
    async with gw.client("alice") as c:
        hook = (await c.post("/v1/webhooks", json={"name": "ci"})).json()["data"]["webhook_id"]
    return task.task_id, hook


def _comparable(resp) -> tuple:
    error = resp.json()["error"]
    return resp.status_code, error["code"], error["message"].split(" ")[0]


@pytest.mark.parametrize("method, path, code", [
    ("GET", "/v1/tasks/{task}", "TASK_NOT_FOUND"),
    ("DELETE", "/v1/tasks/{task}", "TASK_NOT_FOUND"),
    ("GET", "/v1/tasks/{task}/events", "TASK_NOT_FOUND"),
    ("DELETE", "/v1/webhooks/{hook}", "WEBHOOK_NOT_FOUND"),
])
async def test_another_users_object_is_indistinguishable_from_a_missing_one(gw, method, path, code):
    task_id, hook_id = await _alices_objects(gw)
    async with gw.client("mallory") as c:
        theirs = await c.request(method, path.format(task=task_id, hook=hook_id))
        missing = await c.request(method, path.format(task=MISSING_TASK, hook=MISSING_HOOK))
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == code
    assert _comparable(theirs) == _comparable(missing)
    assert "alice" not in theirs.text
    # and nothing changed for alice
    assert (await gw.tasks.get(task_id)).status == "SUBMITTED"
    assert (await gw.deps.webhooks.get(hook_id)).active


async def test_listings_show_only_the_callers_objects(gw):
    await _alices_objects(gw)
    async with gw.client("mallory") as c:
        tasks = (await c.get("/v1/tasks")).json()
        hooks = (await c.get("/v1/webhooks")).json()
    assert tasks["data"] == [] and hooks["data"] == []


@pytest.mark.parametrize("method, path", [
    ("POST", "/v1/tasks"), ("GET", "/v1/tasks"), ("GET", f"/v1/tasks/{MISSING_TASK}"),
    ("DELETE", f"/v1/tasks/{MISSING_TASK}"), ("GET", f"/v1/tasks/{MISSING_TASK}/events"),
    ("POST", "/v1/webhooks"), ("GET", "/v1/webhooks"), ("DELETE", f"/v1/webhooks/{MISSING_HOOK}"),
])
@pytest.mark.parametrize("authorization", [None, "Bearer", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt"])
async def test_every_jwt_route_needs_a_valid_token(gw, method, path, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    async with gw.client(**headers) as c:
        resp = await c.request(method, path, json={"repo": "acme/app", "task_description": "x", "name": "n"}
                               if method == "POST" else None)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "UNAUTHORIZED"

"""GET /v1/tasks (newest first, filters, pagination), GET /v1/tasks/{id}, GET /v1/tasks/{id}/events."""

from __future__ import annotations

import pytest

from shared.aws.pagination import decode_token, encode_token
from shared.tasks.models import Task, Tokens
from shared.tasks.states import TaskStatus as S
from shared.tasks.store import listing_fingerprint


async def _seed(gw, user: str, n: int, *, repo: str = "acme/app") -> list[Task]:
    tasks = []
    for i in range(n):
        at = f"2026-02-01T00:00:{len(gw.tasks.tasks):02d}.000Z"
        tasks.append(await gw.tasks.create(Task.new(user_id=user, repo=repo, task_description=f"task {i}",
                                                    created_at=at, updated_at=at)))
    return tasks


async def test_a_finished_task_shows_cost_tokens_turns_and_duration(gw):
    task = (await _seed(gw, "alice", 1))[0]
    await gw.tasks.transition(task.task_id, S.HYDRATING, max_active=3)
    await gw.tasks.transition(task.task_id, S.RUNNING, changes={"started_at": "2026-02-01T00:00:00.000Z"})
    await gw.tasks.transition(task.task_id, S.FINALIZING)
    await gw.tasks.transition(task.task_id, S.COMPLETED, changes={
        "completed_at": "2026-02-01T00:02:30.500Z", "cost_usd": 0.42, "turns": 12, "pr_url": "https://pr/1",
        "tokens": Tokens(input=100, output=50, cache_read=7, cache_write=3)})
    async with gw.client("alice") as c:
        view = (await c.get(f"/v1/tasks/{task.task_id}")).json()["data"]
    assert view["status"] == "COMPLETED" and view["cost_usd"] == 0.42 and view["turns"] == 12
    assert view["tokens"] == {"input": 100, "output": 50, "cache_read": 7, "cache_write": 3}
    assert view["duration_seconds"] == 150.5 and view["error_classification"] is None


async def test_a_failed_task_carries_its_error_classification(gw):
    task = (await _seed(gw, "alice", 1))[0]
    await gw.tasks.transition(task.task_id, S.HYDRATING, max_active=3)
    await gw.tasks.transition(task.task_id, S.FAILED, changes={"error_code": "GITHUB_AUTH",
                                                                 "error_message": "401 from GitHub"})
    async with gw.client("alice") as c:
        view = (await c.get(f"/v1/tasks/{task.task_id}")).json()["data"]
    assert view["error_message"] == "401 from GitHub"
    assert view["error_classification"]["category"] == "configuration"
    assert view["error_classification"]["retryable"] is False and view["error_classification"]["remedy"]


async def test_missing_task_is_404(gw):
    async with gw.client("alice") as c:
        for task_id in ("01J0000000000000000000NONE", "x" * 300, "not.an.id"):
            resp = await c.get(f"/v1/tasks/{task_id}")
            assert resp.status_code == 404 and resp.json()["error"]["code"] == "TASK_NOT_FOUND"


async def test_listing_is_newest_first_and_paginates_with_an_opaque_token(gw):
    tasks = await _seed(gw, "alice", 5)
    await _seed(gw, "bob", 2)
    seen, token, pages = [], None, 0
    async with gw.client("alice") as c:
        while True:
            params = {"limit": 2, **({"next_token": token} if token else {})}
            body = (await c.get("/v1/tasks", params=params)).json()
            seen += [t["task_id"] for t in body["data"]]
            token, pages = body["pagination"]["next_token"], pages + 1
            assert body["pagination"]["has_more"] is (token is not None)
            if not token:
                break
    assert seen == [t.task_id for t in reversed(tasks)] and pages == 3


async def test_default_limit_is_20(gw):
    await _seed(gw, "alice", 21)
    async with gw.client("alice") as c:
        body = (await c.get("/v1/tasks")).json()
    assert len(body["data"]) == 20 and body["pagination"]["has_more"] is True


async def test_status_and_repo_filters(gw):
    app_tasks = await _seed(gw, "alice", 3)
    other = await _seed(gw, "alice", 2, repo="acme/other")
    await gw.tasks.transition(app_tasks[0].task_id, S.CANCELLED)
    await gw.tasks.transition(other[1].task_id, S.QUEUED)
    async with gw.client("alice") as c:
        async def ids(**params):
            resp = await c.get("/v1/tasks", params=params)
            assert resp.status_code == 200, resp.text
            return [t["task_id"] for t in resp.json()["data"]]
        assert await ids(status="CANCELLED") == [app_tasks[0].task_id]
        assert await ids(status="queued,cancelled") == [other[1].task_id, app_tasks[0].task_id]
        assert await ids(repo="acme/other") == [other[1].task_id, other[0].task_id]
        assert await ids(repo="acme/other", status="SUBMITTED") == [other[0].task_id]


@pytest.mark.parametrize("params", [
    {"status": "RUNNING,DONE"}, {"status": ","}, {"repo": "no-slash"}, {"limit": 0}, {"limit": 101},
    {"limit": "many"}, {"next_token": "%%%garbage"},
])
async def test_invalid_listing_parameters_are_400(gw, params):
    async with gw.client("alice") as c:
        resp = await c.get("/v1/tasks", params=params)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_a_token_forged_for_another_users_listing_is_refused(gw):
    await _seed(gw, "bob", 3)
    await _seed(gw, "alice", 3)
    async with gw.client("bob") as c:
        bob_token = (await c.get("/v1/tasks", params={"limit": 1})).json()["pagination"]["next_token"]
    async with gw.client("alice") as c:
        replayed = await c.get("/v1/tasks", params={"limit": 1, "next_token": bob_token})
        rebound = encode_token({**decode_token(bob_token), "l": listing_fingerprint("alice", None, None)})
        forged = await c.get("/v1/tasks", params={"limit": 1, "next_token": rebound})
        other_filter = await c.get("/v1/tasks", params={
            "limit": 1, "status": "SUBMITTED",
            "next_token": (await c.get("/v1/tasks", params={"limit": 1})).json()["pagination"]["next_token"]})
    for resp in (replayed, forged, other_filter):
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "VALIDATION_ERROR"
        assert "bob" not in resp.text


async def test_events_are_oldest_first_and_paginated(gw):
    task = (await _seed(gw, "alice", 1))[0]
    await gw.tasks.transition(task.task_id, S.QUEUED)
    await gw.tasks.transition(task.task_id, S.CANCELLED)
    async with gw.client("alice") as c:
        first = (await c.get(f"/v1/tasks/{task.task_id}/events", params={"limit": 2})).json()
        rest = (await c.get(f"/v1/tasks/{task.task_id}/events",
                            params={"limit": 2, "next_token": first["pagination"]["next_token"]})).json()
        bad = await c.get(f"/v1/tasks/{task.task_id}/events", params={"next_token": "not-a-token"})
    assert [e["metadata"]["to"] for e in first["data"] + rest["data"]] == ["SUBMITTED", "QUEUED", "CANCELLED"]
    assert first["pagination"]["has_more"] and not rest["pagination"]["has_more"]
    assert bad.status_code == 400

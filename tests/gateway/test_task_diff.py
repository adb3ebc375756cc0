"""An evaluation attempt's diff, downloadable by its owner (and nobody else)."""

from __future__ import annotations

from shared.tasks.models import Task
from tests.gateway.conftest import Gateway

PATCH = b"diff --git a/calc.py b/calc.py\n--- a/calc.py\n+++ b/calc.py\n@@ -1 +1 @@\n-a - b\n+a + b\n"


async def _attempt(gw: Gateway, user: str, *, diff: bytes | None) -> Task:
    task = await gw.tasks.create(Task.new(user_id=user, repo="acme/app", task_description="x",
                                          channel_source="eval", eval_id="e1", case_id="c1", attempt=1))
    if diff is not None:
        key = f"diffs/{task.task_id}.patch"
        await gw.deps.attachments.put(key, diff, "text/x-diff")
        task = await gw.tasks.update(task.task_id, {"diff_key": key}, expected_status=task.status)
    return task


async def test_the_owner_downloads_the_attempts_diff_as_it_was_stored(gw: Gateway) -> None:
    task = await _attempt(gw, "alice", diff=PATCH)
    async with gw.client("alice") as c:
        resp = await c.get(f"/v1/tasks/{task.task_id}/diff")
    assert resp.status_code == 200 and resp.content == PATCH
    assert resp.headers["content-type"].startswith("text/x-diff")


async def test_another_user_and_a_task_without_a_diff_are_refused(gw: Gateway) -> None:
    task = await _attempt(gw, "alice", diff=PATCH)
    plain = await _attempt(gw, "alice", diff=None)
    async with gw.client("mallory") as c:
        assert (await c.get(f"/v1/tasks/{task.task_id}/diff")).json()["error"]["code"] == "TASK_NOT_FOUND"
    async with gw.client("alice") as c:
        resp = await c.get(f"/v1/tasks/{plain.task_id}/diff")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "DIFF_NOT_FOUND"

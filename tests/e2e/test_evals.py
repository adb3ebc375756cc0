"""Evaluation runs on the embedded stack: the real reconciler starts attempts within the run's concurrency and
counts each end exactly once, even when every end is delivered again."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from tests.doubles.scenarios import FAKE_NOOP
from tests.support.git import git

pytestmark = pytest.mark.e2e


def _case(i: int, repo: str, base: str) -> dict:
    return {"id": f"c{i}", "repo": repo, "base": base, "task": f"look at part {i}",
            "test_patch": "diff --git a/t.py b/t.py\n", "test_command": "true"}


def _wait_run(c, eval_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = c.get(f"/v1/evals/{eval_id}").json()["data"]
        if run["status"] != "running" or time.monotonic() > deadline:
            return run
        time.sleep(0.5)


def test_a_run_completes_through_the_reconciler_and_redelivered_ends_count_once(platform):
    user, repo = f"eval-{uuid.uuid4().hex[:6]}", f"acme/eval-{uuid.uuid4().hex[:6]}"
    base = git("rev-parse", "main", cwd=platform.add_repo(repo)).strip()
    with platform.client(user) as c:
        missing = c.post("/v1/evals", json={"name": "e2e", "cases": [_case(0, repo, "0" * 40)]})
        assert missing.status_code == 400 and missing.json()["error"]["details"][0]["field"] == "cases.0.base"
        resp = c.post("/v1/evals", json={"name": "e2e", "model_id": FAKE_NOOP, "concurrency": 2,
                                         "cases": [_case(i, repo, base) for i in range(3)]})
        assert resp.status_code == 201, resp.text
        assert resp.json()["data"]["submitted"] == 2  # the rest waits for a place
        eval_id = resp.json()["data"]["eval_id"]
        run = _wait_run(c, eval_id)
        assert run["status"] == "completed" and run["counted"] == 3, run
        tasks = [t for t in c.get("/v1/tasks", params={"limit": 100}).json()["data"] if t["repo"] == repo]
        assert sorted(t["case_id"] for t in tasks) == ["c0", "c1", "c2"]
        assert {t["channel_source"] for t in tasks} == {"eval"}
        # Every end delivered again, three times over: nothing is counted twice, no attempt is made again.
        entries = [{"Source": "bgagent", "DetailType": "TaskCompleted", "EventBusName": platform.names.event_bus,
                    "Detail": json.dumps({"version": 1, "task_id": t["task_id"], "user_id": user,
                                          "status": "COMPLETED", "eval_id": eval_id})} for t in tasks] * 3
        platform.boto("events").put_events(Entries=entries)  # nine: PutEvents takes up to ten
        platform.wait_for_queue("reconciler")
        again = c.get(f"/v1/evals/{eval_id}").json()["data"]
        assert again["counted"] == 3 and again["results"]["attempts_counted"] == 3
        assert len([t for t in c.get("/v1/tasks", params={"limit": 100}).json()["data"] if t["repo"] == repo]) == 3
        # Every attempt saved its trajectory: the rollouts carry each conversation.
        rollouts = [json.loads(line) for line in c.get(f"/v1/evals/{eval_id}/rollouts").text.splitlines()]
        assert sorted(r["case_id"] for r in rollouts) == ["c0", "c1", "c2"]
        assert all(r["messages"] and r["model_id"] == FAKE_NOOP for r in rollouts), rollouts

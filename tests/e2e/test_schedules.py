"""Schedules on the embedded stack: a due schedule makes exactly one task per due time, through the real
reconciler, on duplicate ticks too, and skips while its previous run is still active."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from tests.doubles.scenarios import FAKE_EDIT, FAKE_LOOP

pytestmark = pytest.mark.e2e


def _tick(platform, copies: int = 1) -> None:
    entry = {"Source": "bgagent", "DetailType": "ReconcileTick", "Detail": json.dumps({"version": 1}),
             "EventBusName": platform.names.event_bus}
    platform.boto("events").put_events(Entries=[entry] * copies)


def _make_due(platform, schedule_id: str) -> str:
    """Move the schedule's next run to the start of the current minute: the clock reached it."""
    due = time.strftime("%Y-%m-%dT%H:%M:00.000Z", time.gmtime())
    platform.boto("dynamodb").update_item(
        TableName=platform.names.schedules_table, Key={"schedule_id": {"S": schedule_id}},
        UpdateExpression="SET next_run_at = :d", ExpressionAttributeValues={":d": {"S": due}})
    return due


def _schedule(platform, c, user: str, model: str, overlap: str = "skip") -> dict:
    repo = f"acme/sched-{uuid.uuid4().hex[:6]}"
    platform.add_repo(repo)
    resp = c.post("/v1/schedules", json={"name": "every minute", "cron": "* * * * *", "repo": repo,
                                         "task_description": "scheduled change", "model_id": model,
                                         "overlap": overlap})
    assert resp.status_code == 201, resp.text
    return resp.json()["data"]


def _wait_runs(c, schedule_id: str, field: str, want: int, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        s = c.get(f"/v1/schedules/{schedule_id}").json()["data"]
        if s[field] >= want or time.monotonic() > deadline:
            return s
        time.sleep(0.3)


def test_a_due_schedule_makes_one_task_even_on_duplicate_ticks(platform):
    user = f"sched-{uuid.uuid4().hex[:6]}"
    with platform.client(user) as c:
        s = _schedule(platform, c, user, FAKE_EDIT)
        due = _make_due(platform, s["schedule_id"])
        _tick(platform, copies=3)
        after = _wait_runs(c, s["schedule_id"], "runs", 1)
        platform.wait_for_queue("reconciler")  # the duplicate ticks are all handled
        tasks = [t for t in c.get("/v1/tasks").json()["data"] if t["repo"] == s["repo"]]
        assert len(tasks) == 1 and c.get(f"/v1/schedules/{s['schedule_id']}").json()["data"]["runs"] == 1
        assert after["last_run_at"] == due and after["last_task_id"] == tasks[0]["task_id"]
        assert tasks[0]["channel_source"] == "schedule" and tasks[0]["task_description"] == "scheduled change"
        assert after["next_run_at"] > due
    final = platform.wait_for(user, tasks[0]["task_id"])
    assert final["status"] == "COMPLETED" and final["pr_url"]


def test_overlap_skip_waits_for_the_previous_run(platform):
    user = f"sched-{uuid.uuid4().hex[:6]}"
    with platform.client(user) as c:
        s = _schedule(platform, c, user, FAKE_LOOP)
        _make_due(platform, s["schedule_id"])
        _tick(platform)
        first = _wait_runs(c, s["schedule_id"], "runs", 1)["last_task_id"]
        platform.wait_for(user, first, statuses={"RUNNING"}, timeout=60)
        _make_due(platform, s["schedule_id"])
        _tick(platform)
        skipped = _wait_runs(c, s["schedule_id"], "skipped_runs", 1)
        assert skipped["skipped_runs"] == 1 and skipped["runs"] == 1
        assert len([t for t in c.get("/v1/tasks").json()["data"] if t["repo"] == s["repo"]]) == 1
        c.delete(f"/v1/tasks/{first}")

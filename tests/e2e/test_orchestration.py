"""Queueing, cancellation, crash safety net and drift repair on the running platform."""

from __future__ import annotations

import json
import time

import pytest

from tests.doubles.scenarios import FAKE_EDIT, FAKE_LOOP
from tests.support.processes import kill_agent, wait_for_agent, wait_for_exit

pytestmark = pytest.mark.e2e


def _submit(platform, user, repo, model=FAKE_EDIT, **body):
    with platform.client(user) as c:
        resp = c.post("/v1/tasks", json={"repo": repo, "task_description": "do it", "model_id": model, **body})
    assert resp.status_code == 201, resp.text
    return resp.json()["data"]["task_id"]


def _cancel(platform, user, task_id):
    with platform.client(user) as c:
        resp = c.delete(f"/v1/tasks/{task_id}")
    assert resp.status_code in (200, 202), resp.text
    return resp


def _trail(platform, user, task_id):
    with platform.client(user) as c:
        data = c.get(f"/v1/tasks/{task_id}/events", params={"limit": 100}).json()["data"]
    return [e["metadata"]["to"] for e in data if e["event_type"] == "transition"]


def _set_cap(platform, user, cap):
    platform.boto("dynamodb").update_item(
        TableName=platform.names.user_concurrency_table, Key={"user_id": {"S": user}},
        UpdateExpression="SET max_concurrency = :c", ExpressionAttributeValues={":c": {"N": str(cap)}})


def _running_agent(platform, task_id, timeout=60):
    """The task's compute handle, once its agent runs its loop (it has sent a heartbeat)."""
    deadline = time.monotonic() + timeout
    while True:
        row = platform.boto("dynamodb").get_item(TableName=platform.names.tasks_table,
                                                 Key={"task_id": {"S": task_id}}, ConsistentRead=True)["Item"]
        if "agent_heartbeat_at" in row or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    handle = row["compute_handle"]["S"]
    wait_for_agent(handle, timeout)
    return handle


def _wait_counter(platform, user, value, timeout=30):
    deadline = time.monotonic() + timeout
    while platform.active_count(user) != value and time.monotonic() < deadline:
        time.sleep(0.2)
    return platform.active_count(user)


def test_over_the_cap_tasks_queue_and_run_in_order(platform):
    platform.add_repo("acme/queue")
    _set_cap(platform, "carol", 1)
    ids = []
    for _ in range(3):  # one after the other, as a user would: each admitted or queued before the next
        ids.append(_submit(platform, "carol", "acme/queue"))
        platform.wait_for("carol", ids[-1], {"QUEUED", "HYDRATING", "RUNNING", "FINALIZING", "COMPLETED"})
    finals = [platform.wait_for("carol", t, timeout=120) for t in ids]
    assert [f["status"] for f in finals] == ["COMPLETED"] * 3
    trails = [_trail(platform, "carol", t) for t in ids]
    assert "QUEUED" not in trails[0]
    assert trails[1][:3] == trails[2][:3] == ["SUBMITTED", "QUEUED", "HYDRATING"]
    assert finals[0]["started_at"] < finals[1]["started_at"] < finals[2]["started_at"]
    assert finals[0]["completed_at"] <= finals[1]["started_at"]  # never two at once under cap 1
    assert platform.active_count("carol") == 0


def test_cancel_while_running_stops_the_agent(platform):
    platform.add_repo("acme/cancel-running")
    task_id = _submit(platform, "dave", "acme/cancel-running", model=FAKE_LOOP, max_turns=400)
    running = platform.wait_for("dave", task_id, {"RUNNING"})
    assert running["status"] == "RUNNING"
    handle = _running_agent(platform, task_id)
    _cancel(platform, "dave", task_id)
    assert wait_for_exit([handle], timeout=30), "the agent session outlived its cancellation"
    # The session is gone: whatever it wrote has landed (no sleep needed to let it).
    final = platform.wait_for("dave", task_id)
    assert final["status"] == "CANCELLED"
    assert final["pr_url"] is None and final["turns"] is None  # nothing written after CANCELLED
    assert _trail(platform, "dave", task_id)[-1] == "CANCELLED"
    assert _wait_counter(platform, "dave", 0) == 0


def test_cancel_while_queued_and_while_submitted(platform):
    platform.add_repo("acme/cancel-early")
    _set_cap(platform, "erin", 1)
    blocker = _submit(platform, "erin", "acme/cancel-early", model=FAKE_LOOP, max_turns=400)
    platform.wait_for("erin", blocker, {"RUNNING"})
    queued = _submit(platform, "erin", "acme/cancel-early")
    assert platform.wait_for("erin", queued, {"QUEUED"})["status"] == "QUEUED"
    _cancel(platform, "erin", queued)
    platform.stack.stop_service("hydrator")
    try:
        submitted = _submit(platform, "erin", "acme/cancel-early")
        _cancel(platform, "erin", submitted)
    finally:
        platform.stack.restart("hydrator")
    _cancel(platform, "erin", blocker)
    for task_id in (queued, submitted, blocker):
        assert platform.wait_for("erin", task_id)["status"] == "CANCELLED"
    time.sleep(3)  # the restarted hydrator has seen the held TaskSubmitted by now (no signal: it changes nothing)
    assert platform.wait_for("erin", submitted)["status"] == "CANCELLED"
    assert _wait_counter(platform, "erin", 0) == 0


def test_cancel_while_hydrating_never_starts_an_agent(platform):
    platform.add_repo("acme/cancel-hydrating")
    platform.stack.stop_service("dispatcher")
    try:
        task_id = _submit(platform, "fran", "acme/cancel-hydrating")
        assert platform.wait_for("fran", task_id, {"HYDRATING"})["status"] == "HYDRATING"
        time.sleep(1.0)  # TaskHydrated is now waiting in the dispatcher's queue
        _cancel(platform, "fran", task_id)
    finally:
        platform.stack.restart("dispatcher")
    time.sleep(4)
    final = platform.wait_for("fran", task_id)
    assert final["status"] == "CANCELLED" and final["started_at"] is None
    assert _wait_counter(platform, "fran", 0) == 0


def test_a_killed_agent_is_finalized_failed_by_the_safety_net(platform):
    platform.add_repo("acme/killed")
    task_id = _submit(platform, "gail", "acme/killed", model=FAKE_LOOP, max_turns=400)
    platform.wait_for("gail", task_id, {"RUNNING"})
    kill_agent(_running_agent(platform, task_id))
    final = platform.wait_for("gail", task_id, timeout=120)
    assert final["status"] == "FAILED" and final["error_code"] == "AGENT_CRASHED"
    assert "-9" in final["error_message"]
    assert _wait_counter(platform, "gail", 0) == 0


def test_injected_drift_is_corrected_by_one_tick(platform):
    ddb = platform.boto("dynamodb")
    ddb.put_item(TableName=platform.names.user_concurrency_table,
                 Item={"user_id": {"S": "hank"}, "active_count": {"N": "4"},
                       "updated_at": {"S": "2020-01-01T00:00:00.000Z"}})
    platform.boto("events").put_events(Entries=[{
        "Source": "bgagent", "DetailType": "ReconcileTick", "Detail": json.dumps({"version": 1}),
        "EventBusName": platform.names.event_bus}])
    assert _wait_counter(platform, "hank", 0, timeout=30) == 0

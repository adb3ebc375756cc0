"""Warm workers on the running platform: a pooled worker killed mid-task still ends its task."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.doubles.scenarios import FAKE_LOOP
from tests.support.processes import alive, children, pid_of

pytestmark = pytest.mark.e2e


def test_a_pooled_worker_killed_mid_task_is_reported_and_the_task_finalized(platform):
    platform.add_repo("acme/pooled")
    with platform.client("ivy") as c:
        task_id = c.post("/v1/tasks", json={"repo": "acme/pooled", "task_description": "loop", "model_id": FAKE_LOOP,
                                            "max_turns": 400}).json()["data"]["task_id"]
    platform.wait_for("ivy", task_id, {"RUNNING"})
    handle = platform.boto("dynamodb").get_item(
        TableName=platform.names.tasks_table, Key={"task_id": {"S": task_id}})["Item"]["compute_handle"]["S"]
    worker = pid_of(handle)
    deadline = time.monotonic() + 10
    while not children(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    agent = children(worker)[0]
    os.kill(worker, signal.SIGKILL)  # the session's supervisor: nothing of it reports the end itself
    final = platform.wait_for("ivy", task_id, timeout=30)
    assert final["status"] == "FAILED" and final["error_code"] == "AGENT_CRASHED"
    assert "-9" in final["error_message"]
    deadline = time.monotonic() + 10
    while alive(agent) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(agent)  # the agent did not outlive its supervisor

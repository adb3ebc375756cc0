"""Many tasks with random cancels and agent kills: every task ends terminal, every counter at zero.

BGAGENT_SOAK_TASKS sets the size (20 in the default suite; the issue's full size is 50).
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter

import pytest

from tests.doubles.scenarios import FAKE_EDIT, FAKE_ERROR, FAKE_LOOP
from tests.support.platform import TERMINAL
from tests.support.processes import kill_agent

pytestmark = pytest.mark.e2e

SIZE = int(os.environ.get("BGAGENT_SOAK_TASKS", "20"))
USERS = ["soak-a", "soak-b", "soak-c"]


def _task_row(platform, task_id):
    item = platform.boto("dynamodb").get_item(TableName=platform.names.tasks_table,
                                              Key={"task_id": {"S": task_id}}, ConsistentRead=True)["Item"]
    return {k: list(v.values())[0] for k, v in item.items()}


def test_random_cancels_and_kills_lose_nothing(platform):
    rng = random.Random(int(os.environ.get("BGAGENT_SOAK_SEED", "7")))
    platform.add_repo("acme/soak")
    plan = []  # (user, task_id, action)
    clients = {u: platform.client(u) for u in USERS}
    for i in range(SIZE):
        user = USERS[i % len(USERS)]
        action = rng.choices(["complete", "fail", "cancel", "kill"], weights=[5, 1, 2, 2])[0]
        model = {"complete": FAKE_EDIT, "fail": FAKE_ERROR}.get(action, FAKE_LOOP)
        resp = clients[user].post("/v1/tasks", json={"repo": "acme/soak", "task_description": f"soak {i}",
                                                     "model_id": model, "max_turns": 300})
        assert resp.status_code == 201, resp.text
        plan.append((user, resp.json()["data"]["task_id"], action))
        time.sleep(rng.uniform(0, 0.3))
    deadline = time.monotonic() + 60 + SIZE * 6
    pending = {t: (u, a) for u, t, a in plan if a in ("cancel", "kill")}
    while pending and time.monotonic() < deadline:
        for task_id, (user, action) in list(pending.items()):
            row = _task_row(platform, task_id)
            if action == "cancel" and (row["status"] in ("QUEUED", "SUBMITTED", "HYDRATING")
                                       or (row["status"] == "RUNNING" and rng.random() < 0.5)):
                clients[user].delete(f"/v1/tasks/{task_id}")
                pending.pop(task_id)
            elif action == "kill" and row["status"] == "RUNNING" and row.get("agent_heartbeat_at"):
                try:
                    kill_agent(row["compute_handle"])
                except RuntimeError:
                    continue  # the supervisor has not started the agent yet
                pending.pop(task_id)
            elif row["status"] in TERMINAL:
                pending.pop(task_id)
        time.sleep(0.2)
    finals = {t: platform.wait_for(u, t, timeout=max(5, deadline - time.monotonic())) for u, t, _ in plan}
    for c in clients.values():
        c.close()
    states = Counter(f["status"] for f in finals.values())
    counters = {u: platform.active_count(u) for u in USERS}
    print(f"\nsoak: {SIZE} tasks -> {dict(states)}; counters at end: {counters}")
    assert set(states) <= TERMINAL, states
    assert all(v == 0 for v in counters.values()), counters
    for _user, task_id, action in plan:
        status = finals[task_id]["status"]
        expected = {"complete": {"COMPLETED"}, "fail": {"FAILED"}, "cancel": {"CANCELLED", "COMPLETED", "FAILED"},
                    "kill": {"FAILED", "CANCELLED"}}[action]
        assert status in expected, (action, finals[task_id])

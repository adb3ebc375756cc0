"""Cancels at random moments across many tasks: all end terminal, no write after CANCELLED, slots exact."""

from __future__ import annotations

import json
import random
import threading
import time

import pytest

from tests.doubles.scenarios import FAKE_EDIT, FAKE_LOOP
from tests.faults.conftest import size
from tests.faults.helpers import assert_clean_end, transitions, wait_all
from tests.support.platform import running_platform
from tests.support.processes import wait_for_exit

pytestmark = pytest.mark.e2e
TASKS = size(200, 30)
USERS = ["race-a", "race-b", "race-c"]


@pytest.fixture(scope="module")
def platform(aws_endpoint, tmp_path_factory):
    with running_platform(aws_endpoint, tmp_path_factory.mktemp("races"), BGAGENT_DEFAULT_MAX_CONCURRENCY="3",
                          BGAGENT_DRIFT_GRACE_SECONDS="0") as p:
        yield p


def _row(platform, task_id) -> dict:
    return platform.boto("dynamodb").get_item(TableName=platform.names.tasks_table,
                                              Key={"task_id": {"S": task_id}}, ConsistentRead=True)["Item"]


def test_random_cancels_at_every_stage(platform):
    rng = random.Random(5)
    platform.add_repo("acme/races")
    tasks: list[tuple] = []
    cancelled_at: dict[str, dict] = {}
    lock = threading.Lock()

    def canceller(user: str, task_id: str, delay: float) -> None:
        time.sleep(delay)
        with platform.client(user) as c:
            resp = c.delete(f"/v1/tasks/{task_id}")
        if resp.status_code in (200, 202):
            with lock:
                cancelled_at[task_id] = _row(platform, task_id)

    threads = []
    with_clients = {u: platform.client(u) for u in USERS}
    for i in range(TASKS):
        user = USERS[i % len(USERS)]
        model = rng.choice([FAKE_EDIT, FAKE_LOOP])
        resp = with_clients[user].post("/v1/tasks", json={"repo": "acme/races", "task_description": f"race {i}",
                                                         "model_id": model, "max_turns": 200})
        task_id = resp.json()["data"]["task_id"]
        tasks.append((user, task_id))
        # Cancel most tasks, at a random stage: at once, while queued or hydrating, or mid-run.
        if model == FAKE_LOOP or rng.random() < 0.5:
            t = threading.Thread(target=canceller, args=(user, task_id, rng.choice([0, 0.05, 0.3, 1, 3, 6])))
            t.start()
            threads.append(t)
    for t in threads:
        t.join(60)
    for c in with_clients.values():
        c.close()
    # Loops nobody managed to cancel run into their turn cap; wait for everything.
    finals = wait_all(platform, tasks, timeout=120 + TASKS * 4)
    states = assert_clean_end(platform, tasks, finals)
    # The cancelled sessions have ended: whatever an agent wrote after its cancel has landed.
    assert wait_for_exit([r["compute_handle"]["S"] for r in (_row(platform, t) for t in cancelled_at)
                          if "compute_handle" in r])
    for task_id, at_cancel in cancelled_at.items():
        now = _row(platform, task_id)
        assert now["status"]["S"] == "CANCELLED"
        if at_cancel["status"]["S"] == "CANCELLED":
            assert now == at_cancel, f"task {task_id} changed after it was cancelled"
        assert transitions(platform, task_id)[-1] == "CANCELLED"
    # One slot release per slot: a tick finds nothing to correct.
    log = platform.stack.logs_dir / "reconciler.log"
    platform.boto("events").put_events(Entries=[{"Source": "bgagent", "DetailType": "ReconcileTick",
                                                 "Detail": json.dumps({}), "EventBusName": platform.names.event_bus}])
    platform.wait_for_queue("reconciler")  # the tick is handled
    assert "corrected concurrency drift" not in log.read_text()
    print(f"\ncancel races: {TASKS} tasks, {len(cancelled_at)} cancelled by request -> {dict(states)}")

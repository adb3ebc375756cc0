"""Checks shared by the fault tests: terminal states, exact counters, single side effects."""

from __future__ import annotations

import time
from collections import Counter

from tests.support.platform import TERMINAL, Platform


def submit_many(platform: Platform, users: list[str], repo: str, count: int, model: str, **body) -> list[tuple]:
    out = []
    clients = {u: platform.client(u) for u in users}
    try:
        for i in range(count):
            user = users[i % len(users)]
            resp = clients[user].post("/v1/tasks", json={"repo": repo, "task_description": f"task {i}",
                                                         "model_id": model, **body})
            assert resp.status_code == 201, resp.text
            out.append((user, resp.json()["data"]["task_id"]))
    finally:
        for c in clients.values():
            c.close()
    return out


def wait_all(platform: Platform, tasks: list[tuple], timeout: float) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    finals: dict[str, dict] = {}
    for user, task_id in tasks:
        finals[task_id] = platform.wait_for(user, task_id, timeout=max(1.0, deadline - time.monotonic()))
    return finals


def transitions(platform: Platform, task_id: str) -> list[str]:
    resp = platform.boto("dynamodb").query(
        TableName=platform.names.task_events_table, KeyConditionExpression="task_id = :t",
        ExpressionAttributeValues={":t": {"S": task_id}}, ConsistentRead=True)
    return [i["metadata"]["M"]["to"]["S"] for i in resp["Items"] if i["event_type"]["S"] == "transition"]


def assert_clean_end(platform: Platform, tasks: list[tuple], finals: dict[str, dict]) -> Counter:
    """Every task terminal, no transition applied twice, every counter back at zero."""
    states = Counter(f["status"] for f in finals.values())
    odd = {t: (f["status"], f.get("error_code"), f.get("error_message")) for t, f in finals.items()
           if f["status"] not in ("COMPLETED", "CANCELLED")}
    assert set(states) <= TERMINAL, (states, odd)
    for _, task_id in tasks:
        trail = transitions(platform, task_id)
        assert len(trail) == len(set(trail)), (task_id, trail)
    users = {u for u, _ in tasks}
    deadline = time.monotonic() + 20
    while any(platform.active_count(u) for u in users) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert {u: platform.active_count(u) for u in users} == {u: 0 for u in users}
    return states

"""Duplicate delivery with approval requests and nudges in flight: every count stays exact."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from tests.doubles.scenarios import FAKE_GATED, FAKE_SLOW
from tests.faults.conftest import size
from tests.faults.helpers import submit_many, wait_all
from tests.support.platform import running_platform

pytestmark = pytest.mark.e2e
GATED = size(40, 4)
NUDGED = size(20, 2)
NUDGES_EACH = 2


@pytest.fixture(scope="module")
def platform(aws_endpoint, tmp_path_factory):
    with running_platform(aws_endpoint, tmp_path_factory.mktemp("dup-steer"),
                          BGAGENT_CONSUMER_DUPLICATE_DELIVERY="true", BGAGENT_DEFAULT_MAX_CONCURRENCY="8",
                          BGAGENT_APPROVAL_POLL_SECONDS="0.3") as p:
        yield p


def _trail(platform, task_id: str) -> Counter:
    resp = platform.boto("dynamodb").query(
        TableName=platform.names.task_events_table, KeyConditionExpression="task_id = :t",
        ExpressionAttributeValues={":t": {"S": task_id}}, ConsistentRead=True)
    return Counter(i["event_type"]["S"] if i["event_type"]["S"] != "transition"
                   else f"->{i['metadata']['M']['to']['S']}"
                   for i in resp["Items"])


def _twice_at_once(platform, user: str, path: str, body: dict) -> list[int]:
    """The same request sent twice concurrently; the status codes."""
    codes: list[int] = []

    def send() -> None:
        with platform.client(user) as c:
            codes.append(c.post(path, json=body).status_code)
    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(codes)


def _decide_all(platform, gated: list[tuple]) -> dict[str, str]:
    decisions, deadline = {}, time.monotonic() + 60 + GATED * 5
    while len(decisions) < len(gated):
        assert time.monotonic() < deadline, f"only {len(decisions)} of {len(gated)} tasks asked for approval"
        for user in {u for u, _ in gated}:
            with platform.client(user) as c:
                for request in c.get("/v1/pending").json()["data"]:
                    if request["task_id"] in decisions:
                        continue  # an index that has not caught up yet
                    verb = "approve" if len(decisions) % 2 == 0 else "deny"
                    codes = _twice_at_once(platform, user, f"/v1/tasks/{request['task_id']}/{verb}",
                                           {"approval_id": request["approval_id"]})
                    assert codes == [202, 409], codes
                    decisions[request["task_id"]] = verb
        time.sleep(0.3)
    return decisions


def _nudge_all(platform, nudged: list[tuple]) -> None:
    for user, task_id in nudged:
        platform.wait_for(user, task_id, {"RUNNING"}, timeout=60)
        for i in range(NUDGES_EACH):
            with platform.client(user) as c:
                assert c.post(f"/v1/tasks/{task_id}/nudge", json={"message": f"hint {i}"}).status_code == 202


def test_duplicate_delivery_with_approvals_and_nudges_in_flight_counts_exactly(platform):
    platform.add_repo("acme/dup-gated", approval_rules=[{"name": "installs", "pattern": "pip install"}])
    platform.add_repo("acme/dup-nudged")
    gated = submit_many(platform, ["dg-a", "dg-b"], "acme/dup-gated", GATED, FAKE_GATED)
    nudged = submit_many(platform, ["dn-a"], "acme/dup-nudged", NUDGED, FAKE_SLOW)
    _nudge_all(platform, nudged)
    decisions = _decide_all(platform, gated)
    finals = wait_all(platform, gated + nudged, timeout=120 + (GATED + NUDGED) * 10)
    assert {f["status"] for f in finals.values()} <= {"COMPLETED", "FAILED"}, finals
    for _, task_id in gated:
        trail = _trail(platform, task_id)
        verdict = "approval.approved" if decisions[task_id] == "approve" else "approval.denied"
        assert trail["approval.requested"] == trail[verdict] == trail["->AWAITING_APPROVAL"] == 1, trail
        assert trail["->RUNNING"] == 2 and trail["->HYDRATING"] == 1, trail
    for _, task_id in nudged:
        trail = _trail(platform, task_id)
        assert trail["nudge.received"] == trail["nudge.delivered"] == NUDGES_EACH, trail
    for user in {u for u, _ in gated + nudged}:
        deadline = time.monotonic() + 20
        while platform.active_count(user) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert platform.active_count(user) == 0

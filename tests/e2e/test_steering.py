"""Steering on the running platform: nudges reach the model, approval gates pause, resume, deny, expire."""

from __future__ import annotations

import time

import pytest

from tests.doubles.scenarios import FAKE_GATED, FAKE_SLOW, GATED_COMMAND, GATED_OUTPUT, GATED_REASON
from tests.e2e.test_event_stream import submit
from tests.support.processes import wait_for_exit

pytestmark = pytest.mark.e2e
INSTALLS = {"name": "installs", "pattern": r"pip install", "timeout_s": 600}


def _compute_handle(platform, task_id: str) -> str:
    return platform.boto("dynamodb").get_item(TableName=platform.names.tasks_table, Key={"task_id": {"S": task_id}},
                                              ConsistentRead=True)["Item"]["compute_handle"]["S"]


def _kinds(platform, user: str, task_id: str) -> list[str]:
    with platform.client(user) as c:
        return [e["event_type"] for e in c.get(f"/v1/tasks/{task_id}/events", params={"limit": 100}).json()["data"]]


def _requests_of(platform, model: str, marker: str) -> list[dict]:
    """The model requests of the one task whose prompt contains `marker`."""
    return [r for r in platform.anthropic.requests_for(model)
            if marker in "".join(b.get("text", "") for b in r["messages"][0]["content"])]


def _tool_results(request: dict) -> str:
    return "\n".join(str(b.get("content")) for m in request["messages"] if m["role"] == "user"
                     for b in m["content"] if b.get("type") == "tool_result")


def _user_texts(request: dict) -> str:
    return "\n".join(b.get("text", "") for m in request["messages"] if m["role"] == "user"
                     for b in m["content"] if b.get("type") == "text")


def _pending(platform, user: str) -> list[dict]:
    with platform.client(user) as c:
        return c.get("/v1/pending").json()["data"]


def test_a_nudge_reaches_the_next_model_request_as_the_owners_message(platform):
    platform.add_repo("acme/nudged")
    task_id = submit(platform, "nd-ann", "acme/nudged", model=FAKE_SLOW, task_description="nudge marker 1")
    platform.wait_for("nd-ann", task_id, {"RUNNING"})
    deadline = time.monotonic() + 60
    while not _requests_of(platform, FAKE_SLOW, "nudge marker 1") and time.monotonic() < deadline:
        time.sleep(0.1)
    with platform.client("nd-ann") as c:
        resp = c.post(f"/v1/tasks/{task_id}/nudge", json={"message": "Please also update the changelog."})
    assert resp.status_code == 202, resp.text
    final = platform.wait_for("nd-ann", task_id, timeout=120)
    assert final["status"] in {"COMPLETED", "FAILED"}
    carrying = [r for r in _requests_of(platform, FAKE_SLOW, "nudge marker 1")
                if "Please also update the changelog." in _user_texts(r)]
    assert carrying, "the nudge never reached the model"
    assert "owner of this task" in _user_texts(carrying[0])
    kinds = _kinds(platform, "nd-ann", task_id)
    assert kinds.count("nudge.received") == kinds.count("nudge.delivered") == 1
    with platform.client("nd-ann") as c:
        late = c.post(f"/v1/tasks/{task_id}/nudge", json={"message": "too late"})
    assert late.status_code == 409 and late.json()["error"]["code"] == "TASK_NOT_RUNNING"


def test_an_approved_command_runs_and_its_output_reaches_the_model(platform):
    platform.add_repo("acme/gated", approval_rules=[INSTALLS])
    task_id = submit(platform, "ap-ann", "acme/gated", model=FAKE_GATED, task_description="approve marker")
    assert platform.wait_for("ap-ann", task_id, {"AWAITING_APPROVAL"})["status"] == "AWAITING_APPROVAL"
    [request] = _pending(platform, "ap-ann")
    assert request["task_id"] == task_id and request["command"] == GATED_COMMAND
    assert request["rule"] == "installs" and GATED_REASON in request["reason"]
    with platform.client("ap-ann") as c:
        resp = c.post(f"/v1/tasks/{task_id}/approve", json={"approval_id": request["approval_id"]})
        again = c.post(f"/v1/tasks/{task_id}/approve", json={"approval_id": request["approval_id"]})
    assert resp.status_code == 202 and again.status_code == 409
    platform.wait_for("ap-ann", task_id, timeout=120)
    after = _requests_of(platform, FAKE_GATED, "approve marker")[-1]
    assert GATED_OUTPUT + "\n" in _tool_results(after) + "\n"
    kinds = _kinds(platform, "ap-ann", task_id)
    assert kinds.count("approval.requested") == kinds.count("approval.approved") == 1
    assert _pending(platform, "ap-ann") == []


def test_a_denied_command_never_runs_and_the_refusal_reaches_the_model(platform):
    platform.add_repo("acme/gated-deny", approval_rules=[INSTALLS])
    task_id = submit(platform, "ap-bob", "acme/gated-deny", model=FAKE_GATED, task_description="deny marker")
    platform.wait_for("ap-bob", task_id, {"AWAITING_APPROVAL"})
    [request] = _pending(platform, "ap-bob")
    with platform.client("ap-bob") as c:
        resp = c.post(f"/v1/tasks/{task_id}/deny", json={"approval_id": request["approval_id"],
                                                         "reason": "no new dependencies here"})
    assert resp.status_code == 202
    platform.wait_for("ap-bob", task_id, timeout=120)
    results = _tool_results(_requests_of(platform, FAKE_GATED, "deny marker")[-1])
    assert "no new dependencies here" in results and GATED_OUTPUT + "\n" not in results + "\n"


def test_an_undecided_request_times_out_as_a_denial(platform):
    platform.add_repo("acme/gated-expire", approval_rules=[{**INSTALLS, "timeout_s": 2}])
    task_id = submit(platform, "ap-cat", "acme/gated-expire", model=FAKE_GATED, task_description="expire marker")
    platform.wait_for("ap-cat", task_id, timeout=120)
    results = _tool_results(_requests_of(platform, FAKE_GATED, "expire marker")[-1])
    assert "nobody decided within 2 s" in results
    assert _kinds(platform, "ap-cat", task_id).count("approval.expired") == 1


def test_cancel_while_awaiting_approval_ends_the_task_and_nothing_follows(platform):
    platform.add_repo("acme/gated-cancel", approval_rules=[INSTALLS])
    task_id = submit(platform, "ap-dan", "acme/gated-cancel", model=FAKE_GATED, task_description="cancel marker")
    platform.wait_for("ap-dan", task_id, {"AWAITING_APPROVAL"})
    [request] = _pending(platform, "ap-dan")
    with platform.client("ap-dan") as c:
        assert c.delete(f"/v1/tasks/{task_id}").json()["data"]["status"] == "CANCELLED"
        late = c.post(f"/v1/tasks/{task_id}/approve", json={"approval_id": request["approval_id"]})
    assert late.status_code == 409
    # The session has ended: anything the agent wrote has landed.
    assert wait_for_exit([_compute_handle(platform, task_id)])
    kinds = _kinds(platform, "ap-dan", task_id)
    after_cancel = kinds[max(i for i, k in enumerate(kinds) if k == "transition") + 1:]
    assert not [k for k in after_cancel if k.split(".")[0] in ("agent", "approval", "nudge")], after_cancel
    assert "approval.approved" not in kinds and platform.wait_for("ap-dan", task_id)["status"] == "CANCELLED"
    assert platform.active_count("ap-dan") == 0

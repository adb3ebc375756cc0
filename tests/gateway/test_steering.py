"""Nudges, approvals and the pending list at the gateway: states, ownership, decided once, rate limits."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shared.steering.models import Approval, ApprovalRule
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S
from tests.gateway.conftest import build_gateway


async def _running(gw, user: str = "alice") -> Task:
    task = await gw.tasks.create(Task.new(user_id=user, repo="acme/app", task_description="x"))
    await gw.tasks.transition(task.task_id, S.HYDRATING, max_active=3)
    return await gw.tasks.transition(task.task_id, S.RUNNING)


async def _awaiting(gw, user: str = "alice", timeout_s: int = 600) -> Approval:
    task = await _running(gw, user)
    approval = await gw.deps.approvals.request(Approval.new(
        task_id=task.task_id, user_id=user, rule=ApprovalRule(name="installs", pattern=r"pip install",
                                                               timeout_s=timeout_s),
        command="pip install requests", reason="I need requests"))
    await gw.tasks.transition(task.task_id, S.AWAITING_APPROVAL)
    return approval


def _kinds(gw, task_id: str) -> list[str]:
    return [e.event_type for e in gw.tasks.events[task_id]]


async def test_a_nudge_is_accepted_while_running_and_recorded_once(gw):
    task = await _running(gw)
    async with gw.client("alice") as c:
        resp = await c.post(f"/v1/tasks/{task.task_id}/nudge", json={"message": "use httpx, not requests"})
    assert resp.status_code == 202
    data = resp.json()["data"]
    assert data["status"] == "pending" and data["message"] == "use httpx, not requests"
    assert _kinds(gw, task.task_id).count("nudge.received") == 1


async def test_a_nudge_outside_running_is_409_and_too_long_is_400(gw):
    task = await _running(gw)
    async with gw.client("alice") as c:
        too_long = await c.post(f"/v1/tasks/{task.task_id}/nudge", json={"message": "x" * 2001})
        await c.delete(f"/v1/tasks/{task.task_id}")
        late = await c.post(f"/v1/tasks/{task.task_id}/nudge", json={"message": "hello"})
    assert too_long.status_code == 400
    assert late.status_code == 409 and late.json()["error"]["code"] == "TASK_NOT_RUNNING"
    assert "nudge.received" not in _kinds(gw, task.task_id)


async def test_nudges_are_rate_limited_per_task(issuer):
    gw = build_gateway(issuer, nudge_burst=2, nudge_rate_per_minute=1)
    task, other = await _running(gw), await _running(gw)
    async with gw.client("alice") as c:
        codes = [(await c.post(f"/v1/tasks/{task.task_id}/nudge", json={"message": "m"})).status_code
                 for _ in range(3)]
        elsewhere = await c.post(f"/v1/tasks/{other.task_id}/nudge", json={"message": "m"})
    assert codes == [202, 202, 429] and elsewhere.status_code == 202


async def test_another_users_task_is_404_for_nudge_and_decisions(gw):
    approval = await _awaiting(gw)
    async with gw.client("mallory") as c:
        for path, body in (("nudge", {"message": "hi"}), ("approve", {"approval_id": approval.approval_id}),
                           ("deny", {"approval_id": approval.approval_id})):
            resp = await c.post(f"/v1/tasks/{approval.task_id}/{path}", json=body)
            assert resp.status_code == 404 and resp.json()["error"]["code"] == "TASK_NOT_FOUND"
        assert (await c.get("/v1/pending")).json()["data"] == []


async def test_pending_lists_the_request_and_approve_decides_it_once_and_resumes_the_task(gw):
    approval = await _awaiting(gw)
    async with gw.client("alice") as c:
        listed = (await c.get("/v1/pending")).json()["data"]
        first = await c.post(f"/v1/tasks/{approval.task_id}/approve", json={"approval_id": approval.approval_id})
        second = await c.post(f"/v1/tasks/{approval.task_id}/deny", json={"approval_id": approval.approval_id})
        after = (await c.get("/v1/pending")).json()["data"]
    assert [a["approval_id"] for a in listed] == [approval.approval_id]
    assert listed[0]["command"] == "pip install requests" and listed[0]["rule"] == "installs"
    assert first.status_code == 202 and first.json()["data"]["status"] == "approved"
    assert second.status_code == 409 and second.json()["error"]["code"] == "APPROVAL_NOT_PENDING"
    assert "approved" in second.json()["error"]["message"]
    assert gw.tasks.tasks[approval.task_id].status == S.RUNNING and after == []
    assert _kinds(gw, approval.task_id).count("approval.approved") == 1


async def test_deny_carries_the_reason(gw):
    approval = await _awaiting(gw)
    async with gw.client("alice") as c:
        resp = await c.post(f"/v1/tasks/{approval.task_id}/deny",
                             json={"approval_id": approval.approval_id, "reason": "no new dependencies"})
    assert resp.status_code == 202 and resp.json()["data"]["decision_reason"] == "no new dependencies"
    assert gw.tasks.tasks[approval.task_id].status == S.RUNNING


async def test_unknown_and_expired_requests_are_409(gw):
    approval = await _awaiting(gw)
    stale = approval.model_copy(update={"expires_at": (datetime.now(timezone.utc) - timedelta(seconds=1))
                                        .isoformat().replace("+00:00", "Z")})
    gw.deps.approvals.rows[approval.approval_id] = stale
    async with gw.client("alice") as c:
        unknown = await c.post(f"/v1/tasks/{approval.task_id}/approve", json={"approval_id": "01UNKNOWN"})
        expired = await c.post(f"/v1/tasks/{approval.task_id}/approve", json={"approval_id": approval.approval_id})
        listed = (await c.get("/v1/pending")).json()["data"]
    assert unknown.status_code == expired.status_code == 409
    assert "expired" in expired.json()["error"]["message"] and listed == []


async def test_a_decision_after_cancellation_is_409_and_writes_nothing(gw):
    approval = await _awaiting(gw)
    async with gw.client("alice") as c:
        cancelled = await c.delete(f"/v1/tasks/{approval.task_id}")
        resp = await c.post(f"/v1/tasks/{approval.task_id}/approve", json={"approval_id": approval.approval_id})
    assert cancelled.json()["data"]["status"] == "CANCELLED"
    assert resp.status_code == 409 and "CANCELLED" in resp.json()["error"]["message"]
    assert _kinds(gw, approval.task_id)[-1] == "transition"  # the cancellation was the last write
    assert gw.deps.approvals.rows[approval.approval_id].status == "pending"


async def test_a_credential_in_a_nudge_is_masked_before_it_is_stored(gw):
    task = await _running(gw)
    token = "ghp_" + "a" * 36
    async with gw.client("alice") as c:
        resp = await c.post(f"/v1/tasks/{task.task_id}/nudge", json={"message": f"use {token} to push"})
    assert token not in resp.text and "[REDACTED]" in resp.json()["data"]["message"]
    assert all(token not in str(e.metadata) for e in gw.tasks.events[task.task_id])


async def test_an_egress_request_is_listed_and_decided_while_the_task_runs_on(gw):
    from shared.steering.models import EGRESS_GATE

    task = await _running(gw)
    approval = await gw.deps.approvals.request(Approval.new(
        task_id=task.task_id, user_id="alice", rule=EGRESS_GATE, kind="egress", command="connect to evil.example:443",
        reason=""))
    async with gw.client("alice") as c:
        listed = (await c.get("/v1/pending")).json()["data"]
        resp = await c.post(f"/v1/tasks/{task.task_id}/approve", json={"approval_id": approval.approval_id})
    assert [(a["kind"], a["command"]) for a in listed] == [("egress", "connect to evil.example:443")]
    assert resp.status_code == 202 and resp.json()["data"]["status"] == "approved"
    assert gw.tasks.tasks[task.task_id].status == S.RUNNING  # it never waited, and nothing moved it


async def test_deciding_an_egress_request_leaves_a_task_that_waits_for_a_command_waiting(gw):
    from shared.steering.models import EGRESS_GATE

    task = await _running(gw)
    egress = await gw.deps.approvals.request(Approval.new(
        task_id=task.task_id, user_id="alice", rule=EGRESS_GATE, kind="egress", command="connect to a.example:443",
        reason=""))
    await gw.deps.approvals.request(Approval.new(
        task_id=task.task_id, user_id="alice", rule=ApprovalRule(name="installs", pattern="pip"),
        command="pip install x", reason=""))
    await gw.tasks.transition(task.task_id, S.AWAITING_APPROVAL)
    async with gw.client("alice") as c:
        resp = await c.post(f"/v1/tasks/{task.task_id}/deny", json={"approval_id": egress.approval_id})
    assert resp.status_code == 202 and gw.tasks.tasks[task.task_id].status == S.AWAITING_APPROVAL

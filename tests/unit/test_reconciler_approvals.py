"""The reconciler and AWAITING_APPROVAL: no heartbeat failure while waiting, expiry, max duration."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services.reconciler.repairs import StuckTaskRepairs
from services.reconciler.settings import ReconcilerSettings
from shared.compute.protocol import SessionState
from shared.steering.models import EGRESS_GATE, Approval, ApprovalRule
from shared.tasks.states import TaskStatus as S
from tests.fakes.collaborators import FakeCompute, RecordingBus
from tests.fakes.steering import InMemoryApprovals
from tests.fakes.tasks import InMemoryTaskStore
from tests.unit.test_reconciler import Metrics
from tests.unit.test_reconciler_repairs import NOW, _task, ago


async def _waiting(expires_in: float, **fields):
    store, compute = InMemoryTaskStore(), FakeCompute()
    approvals = InMemoryApprovals(store)
    repairs = StuckTaskRepairs(store, compute, RecordingBus(), Metrics(), ReconcilerSettings(), approvals=approvals)
    task = await _task(store, compute, S.RUNNING, started_at=ago(600))
    approval = Approval.new(task_id=task.task_id, user_id="u", rule=ApprovalRule(name="r", pattern="x"),
                            command="x", reason="")
    approval = approval.model_copy(update={"expires_at": (NOW + timedelta(seconds=expires_in)).isoformat()
                                           .replace("+00:00", "Z")})
    await approvals.request(approval)
    await store.transition(task.task_id, S.AWAITING_APPROVAL)
    store.tasks[task.task_id] = store.tasks[task.task_id].model_copy(update=fields)
    return store, compute, approvals, repairs, task


async def test_a_waiting_task_is_not_failed_for_a_silent_heartbeat():
    store, compute, _, repairs, task = await _waiting(600, agent_heartbeat_at=ago(3600))
    compute.states[task.compute_handle] = SessionState.STOPPED
    assert await repairs.run(NOW) == {}
    assert (await store.get(task.task_id)).status == S.AWAITING_APPROVAL


async def test_an_expired_request_is_denied_and_the_task_handed_back():
    store, _, approvals, repairs, task = await _waiting(-1, agent_heartbeat_at=ago(1))
    assert await repairs.run(NOW) == {"approval_expired": 1}
    assert [a.status for a in approvals.rows.values()] == ["expired"]
    assert (await store.get(task.task_id)).status == S.RUNNING
    assert await repairs.run(NOW) == {}  # decided once


async def test_max_duration_applies_while_waiting():
    store, compute, _, repairs, task = await _waiting(600, started_at=ago(5 * 3600))
    assert await repairs.run(NOW) == {"max_duration": 1}
    assert (await store.get(task.task_id)).status == S.TIMED_OUT and compute.stopped == [task.compute_handle]


async def test_a_decided_request_left_waiting_is_handed_back():
    # A day to decide: the store judges "in time" on the real clock, which may be minutes past the module's NOW.
    store, _, approvals, repairs, task = await _waiting(24 * 3600, updated_at=ago(120))
    approval = next(iter(approvals.rows.values()))
    await approvals.decide(approval, "approved", by="u")  # and the deciding gateway crashed here
    # The store stamps updated_at with the real clock, so the tick must come later than that, whenever NOW was taken.
    later = max(NOW, datetime.now(timezone.utc)) + timedelta(hours=1)
    assert await repairs.run(later) == {"approval_resumed": 1}
    assert (await store.get(task.task_id)).status == S.RUNNING


async def test_an_open_egress_request_neither_holds_a_decided_task_back_nor_is_expired_into_a_resume():
    store, _, approvals, repairs, task = await _waiting(24 * 3600, updated_at=ago(120))
    command = next(iter(approvals.rows.values()))
    egress = Approval.new(task_id=task.task_id, user_id="u", rule=EGRESS_GATE, kind="egress",
                          command="connect to a.example:443", reason="")
    approvals.rows[egress.approval_id] = egress.model_copy(update={"expires_at": ago(1)})  # asked, then expired
    await approvals.decide(command, "approved", by="u")  # and the deciding gateway crashed here
    later = max(NOW, datetime.now(timezone.utc)) + timedelta(hours=1)
    assert await repairs.run(later) == {"approval_resumed": 1}  # the egress request is the agent's own business
    assert approvals.rows[egress.approval_id].status == "pending"
    assert (await store.get(task.task_id)).status == S.RUNNING

"""Each stuck-task repair of SPEC §9, against in-memory fakes."""

from datetime import datetime, timedelta, timezone

import pytest

from services.reconciler.handlers import Reconciler
from services.reconciler.repairs import StuckTaskRepairs
from services.reconciler.settings import ReconcilerSettings
from shared.compute.protocol import SessionState
from shared.events.models import ComputeSessionStopped, SlotReleased, TaskSubmitted, TaskTimedOut
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S
from tests.fakes.collaborators import FakeCompute, RecordingBus
from tests.fakes.tasks import InMemoryTaskStore
from tests.unit.test_reconciler import Metrics

NOW = datetime.now(timezone.utc)


def ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def world():
    store, compute, bus, metrics = InMemoryTaskStore(), FakeCompute(), RecordingBus(), Metrics()
    settings = ReconcilerSettings(default_max_concurrency=2, drift_grace_seconds=0)
    return store, compute, bus, metrics, StuckTaskRepairs(store, compute, bus, metrics, settings)


async def _task(store, compute, status, user="u", **fields):
    task = await store.create(Task.new(user_id=user, repo="a/b", task_description="x"))
    path = {S.SUBMITTED: [], S.QUEUED: [S.QUEUED], S.HYDRATING: [S.HYDRATING],
            S.RUNNING: [S.HYDRATING, S.RUNNING], S.FINALIZING: [S.HYDRATING, S.RUNNING, S.FINALIZING]}[status]
    for step in path:
        changes = {"compute_handle": await compute.start(task.task_id)} if step == S.RUNNING else None
        task = await store.transition(task.task_id, step, max_active=10, changes=changes)
    store.tasks[task.task_id] = task.model_copy(update=fields)
    return store.tasks[task.task_id]


async def test_running_past_max_duration_is_stopped_and_timed_out(world):
    store, compute, bus, metrics, repairs = world
    task = await _task(store, compute, S.RUNNING, started_at=ago(5 * 3600), agent_heartbeat_at=ago(1))
    assert await repairs.run(NOW) == {"max_duration": 1}
    assert (await store.get(task.task_id)).status == S.TIMED_OUT
    assert compute.stopped == [task.compute_handle]
    assert bus.of(TaskTimedOut) and bus.of(SlotReleased)
    assert (await store.get_concurrency("u")).active_count == 0
    assert [n for n, _, _ in metrics.counts] == ["TasksTimedOut", "StuckTasksRepaired"]


async def test_stale_heartbeat_with_a_dead_session_fails_the_task(world):
    store, compute, bus, _, repairs = world
    task = await _task(store, compute, S.RUNNING, started_at=ago(600), agent_heartbeat_at=ago(300))
    compute.states[task.compute_handle] = SessionState.STOPPED
    assert await repairs.run(NOW) == {"heartbeat_lost": 1}
    failed = await store.get(task.task_id)
    assert failed.status == S.FAILED and failed.error_code == "HEARTBEAT_LOST" and "stopped" in failed.error_message
    assert compute.stopped == []


async def test_stale_heartbeat_with_a_live_session_stops_the_hung_agent(world):
    store, compute, _, _, repairs = world
    task = await _task(store, compute, S.RUNNING, started_at=ago(600), agent_heartbeat_at=ago(300))
    await repairs.run(NOW)
    assert compute.stopped == [task.compute_handle]
    assert (await store.get(task.task_id)).status == S.FAILED


async def test_never_heartbeating_within_the_grace_period_is_left_alone(world):
    store, compute, _, _, repairs = world
    await _task(store, compute, S.RUNNING, started_at=ago(60))
    assert await repairs.run(NOW) == {}


async def test_a_finished_agent_whose_report_was_lost_goes_to_the_finalizer(world):
    store, compute, bus, _, repairs = world
    task = await _task(store, compute, S.RUNNING, started_at=ago(900), agent_heartbeat_at=ago(800),
                       agent_status="success")
    compute.states[task.compute_handle] = SessionState.STOPPED
    assert await repairs.run(NOW) == {"lost_report": 1}
    assert (await store.get(task.task_id)).status == S.RUNNING
    assert [e.task_id for e in bus.of(ComputeSessionStopped)] == [task.task_id]


async def test_stuck_hydrating_fails_and_releases(world):
    store, compute, bus, _, repairs = world
    task = await _task(store, compute, S.HYDRATING, updated_at=ago(3600))
    assert await repairs.run(NOW) == {"hydration_timeout": 1}
    assert (await store.get(task.task_id)).error_code == "HYDRATION_TIMEOUT"
    assert (await store.get_concurrency("u")).active_count == 0


async def test_submitted_with_a_lost_event_is_resubmitted(world):
    store, compute, bus, _, repairs = world
    task = await _task(store, compute, S.SUBMITTED, updated_at=ago(120))
    await _task(store, compute, S.SUBMITTED)  # fresh: its event may still be on the way
    assert await repairs.run(NOW) == {"resubmitted": 1}
    assert [e.task_id for e in bus.of(TaskSubmitted)] == [task.task_id]


async def test_queued_too_long_fails_and_queued_with_a_free_slot_is_woken(world):
    store, compute, bus, _, repairs = world
    old = await _task(store, compute, S.QUEUED, user="v", created_at=ago(25 * 3600))
    await _task(store, compute, S.QUEUED, user="w")
    counts = await repairs.run(NOW)
    assert counts == {"queue_timeout": 1, "queued_with_free_slot": 1}
    assert (await store.get(old.task_id)).error_code == "QUEUE_TIMEOUT"
    assert [e.user_id for e in bus.of(SlotReleased)] == ["w"]


async def test_queued_at_the_cap_is_left_alone(world):
    store, compute, bus, _, repairs = world
    await _task(store, compute, S.RUNNING, user="x", started_at=ago(1), agent_heartbeat_at=ago(1))
    await _task(store, compute, S.RUNNING, user="x", started_at=ago(1), agent_heartbeat_at=ago(1))
    await _task(store, compute, S.QUEUED, user="x")
    assert await repairs.run(NOW) == {}


async def test_stale_finalizing_is_driven_again(world):
    store, compute, bus, _, repairs = world
    task = await _task(store, compute, S.FINALIZING, updated_at=ago(900))
    assert await repairs.run(NOW) == {"refinalize": 1}
    assert bus.of(ComputeSessionStopped)[0].task_id == task.task_id


async def test_a_tick_runs_repairs_and_drift(world):
    store, compute, bus, metrics, repairs = world
    await _task(store, compute, S.HYDRATING, updated_at=ago(3600))
    summary = await Reconciler(store, metrics, ReconcilerSettings(drift_grace_seconds=0), repairs).tick()
    assert summary == {"hydration_timeout": 1, "drift_corrections": 0}


async def test_a_lost_event_is_resent_once_per_period_not_every_tick(world):
    store, compute, bus, _, repairs = world
    task = await _task(store, compute, S.SUBMITTED, updated_at=ago(120))
    assert await repairs.run(NOW) == {"resubmitted": 1}
    assert await repairs.run(NOW + timedelta(seconds=2)) == {}  # the hydrator may just be busy
    assert await repairs.run(NOW + timedelta(seconds=90)) == {"resubmitted": 1}
    assert [e.task_id for e in bus.of(TaskSubmitted)] == [task.task_id] * 2


async def test_one_wake_up_per_user_per_tick(world):
    store, compute, bus, _, repairs = world
    for _ in range(3):
        await _task(store, compute, S.QUEUED, user="many")
    assert await repairs.run(NOW) == {"queued_with_free_slot": 1}
    assert len(bus.of(SlotReleased)) == 1

"""Seven defects of "commit, then follow-up work": each fails a step on demand and redelivers, as SQS would."""

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from services.dispatcher.handlers import Dispatcher
from services.finalizer.handlers import Finalizer
from services.hydrator.handlers import Hydrator
from services.hydrator.settings import HydratorSettings
from services.reconciler.repairs import StuckTaskRepairs
from services.reconciler.settings import ReconcilerSettings
from shared.compute.errors import ComputeStartFailed
from shared.events.errors import PublishFailed
from shared.events.models import (
    AgentFinished,
    ComputeSessionStopped,
    SlotReleased,
    TaskCompleted,
    TaskFailed,
    TaskHydrated,
    TaskSubmitted,
    TaskTimedOut,
)
from shared.repos.models import RepoConfig
from shared.tasks.models import Task
from shared.tasks.outbox import RECOVERY_SECONDS
from shared.tasks.states import TaskStatus as S
from tests.fakes.collaborators import (
    FakeCompute,
    FakeGitHost,
    InMemoryContexts,
    InMemoryMemory,
    InMemoryRepos,
    RecordingBus,
)
from tests.fakes.tasks import InMemoryTaskStore
from tests.support.routing import handle
from tests.unit.test_reconciler import Metrics

NOW = datetime.now(timezone.utc)
RECONCILER = ReconcilerSettings(default_max_concurrency=2, drift_grace_seconds=0)  # outbox relay after 10 s


def ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


async def deliver(handler, bus: RecordingBus, *events, consumes: tuple[type, ...], redeliveries: int = 3) -> None:
    """Run events through a handler like the queue does: a failure redelivers; what it publishes and
    it consumes is delivered too."""
    queue = [(e, 0) for e in events]
    seen = len(bus.published)
    while queue:
        event, attempt = queue.pop(0)
        try:
            await handle(handler, event)
        except Exception:
            if attempt < redeliveries:
                queue.append((event, attempt + 1))
                await asyncio.sleep(RECOVERY_SECONDS)  # the queue's backoff before a redelivery
        fresh, seen = bus.published[seen:], len(bus.published)
        queue.extend((e, 0) for e in fresh if isinstance(e, consumes))


def hydrator_world():
    store, bus, git, contexts = InMemoryTaskStore(), RecordingBus(), FakeGitHost(), InMemoryContexts()
    git.add_repo("acme/app")
    repos = InMemoryRepos(RepoConfig(repo="acme/app"))
    hydrator = Hydrator(store, repos, git, contexts, bus, HydratorSettings(default_max_concurrency=1))
    return store, bus, contexts, repos, hydrator


def later(seconds: float = 30) -> datetime:
    """A tick this long from now: past the outbox's short age, well before any timeout."""
    return datetime.now(timezone.utc) + timedelta(seconds=seconds)


def relay(store, bus):
    """The reconciler, for its outbox relay: a tick past the short age and well before any timeout."""
    return StuckTaskRepairs(store, FakeCompute(), bus, Metrics(), RECONCILER)


# Defect 1: a task admitted by SlotReleased was stranded in HYDRATING when a step after admission failed.
@pytest.mark.parametrize("failing", ["context store", "bus"])
async def test_a_task_admitted_by_slot_released_is_hydrated_after_a_failure(failing):
    store, bus, contexts, _, hydrator = hydrator_world()
    first = await store.create(Task.new(user_id="u", repo="acme/app", task_description="a"))
    await deliver(hydrator, bus, TaskSubmitted(task_id=first.task_id, user_id="u"), consumes=())
    queued = await store.create(Task.new(user_id="u", repo="acme/app", task_description="b"))
    await deliver(hydrator, bus, TaskSubmitted(task_id=queued.task_id, user_id="u"), consumes=())
    assert (await store.get(queued.task_id)).status == S.QUEUED
    await store.transition(first.task_id, S.CANCELLED)  # frees the slot
    if failing == "bus":
        bus.fail_next = 1
    else:
        contexts.fail_next = 1
    await deliver(hydrator, bus, SlotReleased(user_id="u"), consumes=(TaskSubmitted,))
    await relay(store, bus).run(now=later())
    await deliver(hydrator, bus, *bus.of(TaskSubmitted), consumes=(TaskSubmitted,))
    admitted = await store.get(queued.task_id)
    assert admitted.status == S.HYDRATING and admitted.context_key
    assert queued.task_id in {e.task_id for e in bus.of(TaskHydrated)}


# Defect 2: terminal notifications were lost when memory or the bus failed after the terminal transition.
@pytest.mark.parametrize("failing", ["memory", "bus"])
async def test_the_finalizer_announces_the_outcome_after_a_failure(failing):
    store, bus, git, memory = InMemoryTaskStore(), RecordingBus(), FakeGitHost(), InMemoryMemory()
    git.add_repo("a/b")
    task = await store.create(Task.new(user_id="u", repo="a/b", task_description="x"))
    for step in (S.HYDRATING, S.RUNNING):
        task = await store.transition(task.task_id, step, max_active=2)
    store.tasks[task.task_id] = task.model_copy(update={"agent_status": "success", "outbox": {}})
    if failing == "bus":
        bus.fail_next = 1
    else:
        memory.fail_next = 1
    await deliver(Finalizer(store, git, bus, memory=memory), bus,
                  AgentFinished(task_id=task.task_id, outcome="success"), consumes=())
    assert (await store.get(task.task_id)).status == S.COMPLETED
    assert [e.task_id for e in bus.of(TaskCompleted)] == [task.task_id]
    assert [e.task_id for e in bus.of(SlotReleased)] == [task.task_id]
    assert memory.entries and not (await store.get(task.task_id)).outbox


# Defect 2, same shape: the hydrator's failure path.
async def test_the_hydrators_failure_notice_survives_a_bus_failure():
    store, bus, _, repos, hydrator = hydrator_world()
    task = await store.create(Task.new(user_id="u", repo="acme/gone", task_description="x"))
    bus.fail_next = 1
    await deliver(hydrator, bus, TaskSubmitted(task_id=task.task_id, user_id="u"), consumes=())
    assert (await store.get(task.task_id)).status == S.FAILED
    assert [e.error_code for e in bus.of(TaskFailed)] == ["REPO_NOT_ONBOARDED"]


# Defect 2, same shape: the dispatcher's start-failure path.
async def test_the_dispatchers_start_failure_notice_survives_a_bus_failure():
    store, bus = InMemoryTaskStore(), RecordingBus()
    task = await store.create(Task.new(user_id="u", repo="a/b", task_description="x"))
    task = await store.transition(task.task_id, S.HYDRATING, max_active=2)
    bus.fail_next = 1
    dispatcher = Dispatcher(store, FakeCompute(fail=ComputeStartFailed("no capacity", retryable=False)), bus)
    await deliver(dispatcher, bus, TaskHydrated(task_id=task.task_id, user_id="u", context_key="k"), consumes=())
    assert (await store.get(task.task_id)).status == S.FAILED
    assert [e.error_code for e in bus.of(TaskFailed)] == ["COMPUTE_START_FAILED"]
    assert [e.task_id for e in bus.of(SlotReleased)] == [task.task_id]
    assert (await store.get_concurrency("u")).active_count == 0


# Defect 2, same shape: the reconciler's repairs; the next tick's relay re-publishes.
async def test_a_repairs_notice_survives_a_bus_failure():
    store, bus = InMemoryTaskStore(), RecordingBus()
    task = await store.create(Task.new(user_id="u", repo="a/b", task_description="x"))
    task = await store.transition(task.task_id, S.HYDRATING, max_active=2)
    store.tasks[task.task_id] = task.model_copy(update={"updated_at": ago(3600)})
    bus.fail_next = 1
    repairs = relay(store, bus)
    with pytest.raises(PublishFailed):
        await repairs.run(now=NOW)
    assert (await store.get(task.task_id)).status == S.FAILED and not bus.published
    await repairs.run(now=later())
    assert [e.error_code for e in bus.of(TaskFailed)] == ["HYDRATION_TIMEOUT"]
    assert [e.task_id for e in bus.of(SlotReleased)] == [task.task_id]


# Defect 3: a run that reported success but whose AgentFinished was not processed yet was marked TIMED_OUT.
async def test_a_finished_run_past_max_duration_goes_to_the_finalizer_not_timed_out():
    store, bus, compute = InMemoryTaskStore(), RecordingBus(), FakeCompute()
    task = await store.create(Task.new(user_id="u", repo="a/b", task_description="x"))
    task = await store.transition(task.task_id, S.HYDRATING, max_active=2)
    handle = await compute.start(task.task_id)
    task = await store.transition(task.task_id, S.RUNNING, changes={"compute_handle": handle})
    store.tasks[task.task_id] = task.model_copy(update={
        "started_at": ago(RECONCILER.max_session_seconds + 60), "agent_heartbeat_at": ago(1), "agent_status": "success",
        "outbox": {}})
    await StuckTaskRepairs(store, compute, bus, Metrics(), RECONCILER).run(now=NOW)
    assert (await store.get(task.task_id)).status == S.RUNNING
    assert not bus.of(TaskTimedOut)
    assert [e.task_id for e in bus.of(ComputeSessionStopped)] == [task.task_id]


class Yielding(InMemoryTaskStore):
    """Reading a counter yields to the event loop, as a real store's call does."""

    async def get_concurrency(self, user_id):
        await asyncio.sleep(0)
        return await super().get_concurrency(user_id)


class YieldingBus(RecordingBus):
    async def publish(self, *details):
        await asyncio.sleep(0)
        await super().publish(*details)


# Defect 4: overlapping ticks shared one per-tick set on the handler object and reset each other's.
async def test_overlapping_ticks_wake_each_user_once_per_tick():
    store, bus = Yielding(), YieldingBus()
    for _ in range(3):
        task = await store.create(Task.new(user_id="u", repo="a/b", task_description="x"))
        await store.transition(task.task_id, S.QUEUED)
    repairs = StuckTaskRepairs(store, FakeCompute(), bus, Metrics(), RECONCILER)

    async def later_tick():
        await asyncio.sleep(0)  # starts while the first tick is publishing its wake-up
        await repairs.run(now=NOW)

    await asyncio.gather(repairs.run(now=NOW), later_tick())
    assert len(bus.of(SlotReleased)) == 2  # one per tick


# Defect 7: a start failing with something other than OSError left an empty session record, and every
# later start answered "being started elsewhere" until the hydration timeout.
async def test_a_start_that_fails_oddly_fails_the_task_and_leaves_no_record(tmp_path):
    from shared.compute.process import ProcessCompute

    store, bus = InMemoryTaskStore(), RecordingBus()
    task = await store.create(Task.new(user_id="u", repo="a/b", task_description="x"))
    task = await store.transition(task.task_id, S.HYDRATING, max_active=2)
    compute = ProcessCompute(tmp_path, {"BROKEN": "a\0b"})  # Popen refuses it with ValueError, not OSError
    await deliver(Dispatcher(store, compute, bus), bus,
                  TaskHydrated(task_id=task.task_id, user_id="u", context_key="k"), consumes=())
    failed = await store.get(task.task_id)
    assert (failed.status, failed.error_code) == (S.FAILED, "COMPUTE_START_FAILED")
    assert not list((tmp_path / "sessions").iterdir())

"""Starting and stopping sessions against in-memory fakes."""

import pytest

from services.dispatcher.handlers import Dispatcher
from shared.compute.errors import ComputeStartFailed
from shared.events.models import SlotReleased, TaskCancelled, TaskFailed, TaskHydrated
from shared.messaging.errors import RetryLater
from shared.tasks.errors import TransitionConflict
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S
from tests.fakes.collaborators import FakeCompute, RecordingBus
from tests.fakes.tasks import InMemoryTaskStore
from tests.support.routing import handle


async def _hydrating(store):
    task = await store.create(Task.new(user_id="u", repo="a/b", task_description="x"))
    return await store.transition(task.task_id, S.HYDRATING, max_active=3)


def _hydrated(task):
    return TaskHydrated(task_id=task.task_id, user_id="u", context_key="k")


async def test_starts_one_session_and_marks_running_even_when_redelivered():
    store, compute, bus = InMemoryTaskStore(), FakeCompute(), RecordingBus()
    d = Dispatcher(store, compute, bus)
    task = await _hydrating(store)
    await handle(d, _hydrated(task))
    await handle(d, _hydrated(task))
    running = await store.get(task.task_id)
    assert running.status == S.RUNNING and running.compute_handle == f"fake:{task.task_id}"
    assert len(compute.sessions) == 1


async def test_cancelled_while_starting_stops_the_new_session():
    store, compute, bus = InMemoryTaskStore(), FakeCompute(), RecordingBus()
    task = await _hydrating(store)

    class CancelOnStart(FakeCompute):
        async def start(self, task_id):
            handle = await super().start(task_id)
            await store.transition(task_id, S.CANCELLED)
            return handle

    compute = CancelOnStart()
    with pytest.raises(TransitionConflict):
        await handle(Dispatcher(store, compute, bus), _hydrated(task))
    assert compute.stopped == [f"fake:{task.task_id}"]


async def test_permanent_start_failure_fails_and_releases():
    store, bus = InMemoryTaskStore(), RecordingBus()
    compute = FakeCompute(fail=ComputeStartFailed("no image", retryable=False))
    task = await _hydrating(store)
    await handle(Dispatcher(store, compute, bus), _hydrated(task))
    failed = await store.get(task.task_id)
    assert failed.status == S.FAILED and failed.error_code == "COMPUTE_START_FAILED"
    assert bus.of(TaskFailed) and bus.of(SlotReleased)
    assert (await store.get_concurrency("u")).active_count == 0


async def test_transient_start_failure_is_retried_later():
    store = InMemoryTaskStore()
    compute = FakeCompute(fail=ComputeStartFailed("capacity", retryable=True))
    task = await _hydrating(store)
    with pytest.raises(RetryLater):
        await handle(Dispatcher(store, compute, RecordingBus()), _hydrated(task))
    assert (await store.get(task.task_id)).status == S.HYDRATING


async def test_cancel_stops_the_running_session():
    store, compute, bus = InMemoryTaskStore(), FakeCompute(), RecordingBus()
    d = Dispatcher(store, compute, bus)
    task = await _hydrating(store)
    await handle(d, _hydrated(task))
    await store.transition(task.task_id, S.CANCELLED)
    await handle(d, TaskCancelled(task_id=task.task_id, user_id="u"))
    assert compute.stopped == [f"fake:{task.task_id}"]

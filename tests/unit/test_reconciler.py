"""Counter drift correction against in-memory fakes."""

from services.reconciler.handlers import Reconciler
from services.reconciler.settings import ReconcilerSettings
from shared.events.models import ReconcileTick
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S
from tests.fakes.tasks import InMemoryTaskStore
from tests.support.routing import handle


class Metrics:
    def __init__(self):
        self.counts = []

    def count(self, name, value=1, **props):
        self.counts.append((name, value, props))

    def timing(self, name, ms, **props):
        pass

    def value(self, name, value, unit="None", **props):
        pass


async def _holding(store, user):
    task = await store.create(Task.new(user_id=user, repo="a/b", task_description="x"))
    return await store.transition(task.task_id, S.HYDRATING, max_active=10)


async def test_drift_both_ways_is_corrected_with_a_metric():
    store, metrics = InMemoryTaskStore(), Metrics()
    await _holding(store, "up")
    await _holding(store, "down")
    await _holding(store, "down")
    store.counters["up"].active_count = 5      # leaked slots
    store.counters["down"].active_count = 0    # lost increments
    store.counters["up"].updated_at = store.counters["down"].updated_at = "2020-01-01T00:00:00Z"
    rec = Reconciler(store, metrics, ReconcilerSettings(drift_grace_seconds=0))
    await handle(rec, ReconcileTick())
    assert (await store.get_concurrency("up")).active_count == 1
    assert (await store.get_concurrency("down")).active_count == 2
    assert sorted(p["user_id"] for n, _, p in metrics.counts if n == "DriftCorrections") == ["down", "up"]
    assert (await rec.tick())["drift_corrections"] == 0


async def test_recently_changed_counters_wait_for_the_next_tick():
    store = InMemoryTaskStore()
    await _holding(store, "u")
    store.counters["u"].active_count = 3
    rec = Reconciler(store, Metrics(), ReconcilerSettings(drift_grace_seconds=60))
    assert (await rec.tick())["drift_corrections"] == 0
    assert (await store.get_concurrency("u")).active_count == 3


async def test_a_task_moving_on_while_the_tick_reads_is_counted_once_and_never_missed():
    class MovingStore(InMemoryTaskStore):
        """Moves the task HYDRATING → RUNNING right after RUNNING is read, as a dispatcher could."""

        async def tasks_in_status(self, status, **kw):
            found = await super().tasks_in_status(status, **kw)
            for task in list(self.tasks.values()):
                if status == S.RUNNING and task.status == S.HYDRATING:
                    await self.transition(task.task_id, S.RUNNING)
            return found

    store = MovingStore()
    await _holding(store, "mover")
    store.counters["mover"].updated_at = "2020-01-01T00:00:00Z"
    rec = Reconciler(store, Metrics(), ReconcilerSettings(drift_grace_seconds=0))
    assert (await rec.tick())["drift_corrections"] == 0
    assert (await store.get_concurrency("mover")).active_count == 1

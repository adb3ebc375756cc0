"""The reconciler drives evaluation runs: every attempt's end is counted once, and a tick repairs lost events."""

from services.reconciler.handlers import Reconciler
from services.reconciler.settings import ReconcilerSettings
from shared.evals.driver import EvalDriver
from shared.events.models import ReconcileTick, TaskCancelled, TaskCompleted, TaskFailed
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S
from tests.fakes.collaborators import RecordingBus
from tests.fakes.evals import InMemoryEvals
from tests.fakes.tasks import InMemoryTaskStore
from tests.support.evals import case_rows, finish, new_run
from tests.support.routing import handle
from tests.unit.test_reconciler import Metrics


def reconciler() -> Reconciler:
    store = InMemoryTaskStore()
    driver = EvalDriver(InMemoryEvals(), store, RecordingBus())
    return Reconciler(store, Metrics(), ReconcilerSettings(), evals=driver)


async def test_every_redelivered_end_is_counted_once_and_starts_the_next_attempt():
    rec = reconciler()
    d = rec._evals
    run = await d.evals.create(new_run(3, concurrency=1), case_rows(3))
    await d.advance(run.eval_id)
    for _ in range(3):
        (task,) = [t for t in d.tasks.tasks.values() if not t.status.is_terminal]
        done = await finish(d.tasks, task.task_id)
        event = TaskCompleted(task_id=done.task_id, user_id=done.user_id, status="COMPLETED", eval_id=done.eval_id)
        for _ in range(3):  # delivered three times
            await handle(rec, event)
    counted = await d.evals.get(run.eval_id)
    assert counted.counted == 3 and counted.status == "completed" and len(d.tasks.tasks) == 3
    assert [a.case_id for a in await d.evals.attempts(run.eval_id)] == ["case-0", "case-1", "case-2"]


async def test_an_ordinary_tasks_end_is_ignored():
    rec = reconciler()
    task = await rec._store.create(Task.new(user_id="u", repo="a/b", task_description="x"))
    failed = await rec._store.transition(task.task_id, S.FAILED, changes={"error_code": "AGENT_ERROR"})
    await handle(rec, TaskFailed(task_id=failed.task_id, user_id="u", status="FAILED"))
    await handle(rec, TaskCancelled(task_id="01J0000000000000000000ZZZZ", user_id="u"))


async def test_a_tick_counts_ends_whose_events_were_lost():
    rec = reconciler()
    d = rec._evals
    run = await d.evals.create(new_run(2, concurrency=2), case_rows(2))
    await d.advance(run.eval_id)
    for task in list(d.tasks.tasks.values()):
        await finish(d.tasks, task.task_id, grade="failed")  # no event reaches the reconciler
    await handle(rec, ReconcileTick())
    after = await d.evals.get(run.eval_id)
    assert after.status == "completed" and after.counted == 2
    assert (await rec.tick())["eval_runs"] == 0

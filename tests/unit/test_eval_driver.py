"""The evaluation driver: concurrency, cost stop, pacing, cancelling, exactly-once under redelivery and crashes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shared.evals.driver import EvalDriver
from shared.evals.store import next_version
from shared.tasks.states import TaskStatus as S
from tests.fakes.collaborators import RecordingBus
from tests.fakes.evals import InMemoryEvals
from tests.fakes.tasks import InMemoryTaskStore
from tests.support.evals import case_rows, finish, new_run


def driver(**kwargs) -> EvalDriver:
    return EvalDriver(InMemoryEvals(), InMemoryTaskStore(), RecordingBus(), **kwargs)


async def start(d: EvalDriver, cases: int, **settings):
    run = await d.evals.create(new_run(cases, **settings), case_rows(cases))
    await d.advance(run.eval_id)
    return run.eval_id


def live(d: EvalDriver) -> list:
    return [t for t in d.tasks.tasks.values() if not t.status.is_terminal]


async def test_attempts_run_within_the_runs_concurrency_until_every_one_is_counted():
    d = driver()
    eval_id = await start(d, 5, attempts=2, concurrency=3)
    most = 0
    while live(d):
        most = max(most, len(live(d)))
        await d.count(await finish(d.tasks, live(d)[0].task_id))
    run = await d.evals.get(eval_id)
    assert most == 3 and run.status == "completed" and run.counted == 10 and run.in_flight == {}
    tasks = list(d.tasks.tasks.values())
    assert sorted((t.case_id, t.attempt) for t in tasks) == [(f"case-{i}", a) for i in range(5) for a in (1, 2)]
    first = tasks[0]
    assert first.channel_source == "eval" and first.eval_id == eval_id and first.user_id == "alice"
    assert first.task_description == "fix bug 0" and first.repo == "acme/app" and first.save_trajectory


async def test_no_attempt_starts_once_max_cost_is_spent():
    d = driver()
    eval_id = await start(d, 6, concurrency=1, max_cost_usd=0.5)
    while live(d):
        await d.count(await finish(d.tasks, live(d)[0].task_id, cost=0.3))
    run = await d.evals.get(eval_id)
    assert len(d.tasks.tasks) == 2 and run.cost_usd == 0.6
    assert run.status == "completed" and run.stopped_reason == "max_cost_usd"


async def test_a_redelivered_end_is_counted_once():
    d = driver()
    eval_id = await start(d, 2, concurrency=1)
    done = await finish(d.tasks, live(d)[0].task_id, cost=0.4)
    assert await d.count(done) is True
    assert await d.count(done) is False and await d.count(done) is False
    run = await d.evals.get(eval_id)
    assert run.counted == 1 and run.cost_usd == 0.4 and len(d.tasks.tasks) == 2
    assert len(await d.evals.attempts(eval_id)) == 1


async def test_a_claim_lost_before_its_task_was_made_is_repaired_once():
    d = driver()
    run = await d.evals.create(new_run(3, concurrency=2), case_rows(3))
    # A driver claimed slot 0 (choosing its task's id) and died before creating the task.
    await d.evals.replace(run, next_version(run, next_slot=1, in_flight={"0": "01JCLAIMED0000000000000000"}))
    await d.repair_all()
    await d.repair_all()
    tasks = sorted(d.tasks.tasks.values(), key=lambda t: t.case_id or "")
    assert [(t.case_id, t.attempt) for t in tasks] == [("case-0", 1), ("case-1", 1)]
    assert tasks[0].task_id == "01JCLAIMED0000000000000000"
    assert set((await d.evals.get(run.eval_id)).in_flight.values()) == {t.task_id for t in tasks}


class CrashAfterCreate(InMemoryTaskStore):
    """Creates the task, then fails as a process dying before it could note the task on the run."""

    crashes = 1

    async def create(self, task, *, announce=()):
        created = await super().create(task, announce=announce)
        if self.crashes:
            self.crashes -= 1
            raise RuntimeError("crashed after creating the task")
        return created


async def test_a_driver_crash_after_creating_a_task_resumes_without_a_duplicate():
    d = EvalDriver(InMemoryEvals(), CrashAfterCreate(), RecordingBus())
    run = await d.evals.create(new_run(2, concurrency=1), case_rows(2))
    try:
        await d.advance(run.eval_id)
    except RuntimeError:
        pass
    assert len(d.tasks.tasks) == 1
    await d.repair_all()
    (only,) = d.tasks.tasks.values()
    assert (await d.evals.get(run.eval_id)).in_flight == {"0": only.task_id}
    # Its end arrives only as a repair finds it (the event was lost): counted once, the next case starts.
    await finish(d.tasks, only.task_id)
    await d.repair_all()
    await d.repair_all()
    assert (await d.evals.get(run.eval_id)).counted == 1 and len(d.tasks.tasks) == 2


async def test_rate_per_s_paces_starts():
    now = [datetime(2026, 12, 1, tzinfo=timezone.utc)]
    d = driver(clock=lambda: now[0], max_pacing_wait_s=0)
    eval_id = await start(d, 5, concurrency=5, rate_per_s=0.5)
    assert len(d.tasks.tasks) == 1
    await d.advance(eval_id)
    assert len(d.tasks.tasks) == 1
    now[0] += timedelta(seconds=2)
    await d.advance(eval_id)
    assert len(d.tasks.tasks) == 2


async def test_cancelling_a_run_cancels_running_attempts_and_keeps_finished_ones():
    d = driver()
    eval_id = await start(d, 4, concurrency=2)
    first = live(d)[0]
    await d.count(await finish(d.tasks, first.task_id))
    running = {t.task_id for t in live(d)}
    run = await d.cancel(await d.evals.get(eval_id))
    assert run.status == "cancelled" and live(d) == []
    assert {d.tasks.tasks[t].status for t in running} == {S.CANCELLED}
    counted = {a.task_id: a.classification for a in await d.evals.attempts(eval_id)}
    assert counted == {first.task_id: "PASSED", **{t: "CANCELLED" for t in running}}
    assert len(d.tasks.tasks) == 3 and (await d.evals.get(eval_id)).status == "cancelled"


async def test_the_platforms_eval_cap_bounds_every_run_together():
    d = driver(max_running=3)
    first = await start(d, 4, concurrency=2)
    second = await start(d, 4, concurrency=2)
    assert len(live(d)) == 3 and await d.evals.places_taken() == 3
    (done,) = [t for t in live(d) if t.eval_id == first][:1]
    await d.count(await finish(d.tasks, done.task_id))
    assert len(live(d)) == 3  # the freed place went to the next attempt of the same run
    await d.repair_all()
    assert len(live(d)) == 3
    while live(d):
        await d.count(await finish(d.tasks, live(d)[0].task_id))
        await d.repair_all()  # a run waiting for a place starts on the next tick
        assert len(live(d)) <= 3
    assert {(await d.evals.get(e)).status for e in (first, second)} == {"completed"}
    assert await d.evals.places_taken() == 0


class CancelledWhileCreating(InMemoryTaskStore):
    """The run is cancelled after an attempt was claimed and before its task exists."""

    driver: EvalDriver | None = None

    async def create(self, task, *, announce=()):
        if self.driver is not None:
            d, self.driver = self.driver, None
            await d.cancel(await d.evals.get(task.eval_id))
        return await super().create(task, announce=announce)


async def test_a_cancel_between_an_attempts_claim_and_its_task_still_cancels_that_task():
    tasks = CancelledWhileCreating()
    d = EvalDriver(InMemoryEvals(), tasks, RecordingBus())
    tasks.driver = d
    eval_id = await start(d, 3, concurrency=1)
    (only,) = d.tasks.tasks.values()
    assert only.status == S.CANCELLED and len(d.tasks.tasks) == 1
    assert [a.classification for a in await d.evals.attempts(eval_id)] == ["CANCELLED"]
    assert (await d.evals.get(eval_id)).status == "cancelled" and await d.evals.places_taken() == 0

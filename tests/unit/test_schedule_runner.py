"""Running due schedules: one task per due time, skips while a run is active, pauses with a reason."""

from datetime import datetime, timedelta, timezone

from services.reconciler.schedules import ScheduleRunner
from shared.events.models import TaskSubmitted
from shared.pull_outcomes.models import PullOpener
from shared.repos.models import RepoConfig
from shared.schedules.models import Schedule, TaskTemplate
from shared.tasks.states import TaskStatus as S
from tests.fakes.collaborators import InMemoryPullOutcomes, InMemoryRepos, RecordingBus
from tests.fakes.schedules import InMemorySchedules
from tests.fakes.tasks import InMemoryTaskStore

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def setup(**fields):
    schedules, tasks, bus = InMemorySchedules(), InMemoryTaskStore(), RecordingBus()
    repos = InMemoryRepos(RepoConfig(repo="acme/app"))
    runner = ScheduleRunner(schedules, tasks, repos, bus, InMemoryPullOutcomes())
    schedule = Schedule(user_id="alice", name="nightly", cron="* * * * *", next_run_at=iso(T0 + timedelta(minutes=1)),
                        template=TaskTemplate(repo="acme/app", task_description="update deps", max_turns=7), **fields)
    schedules.rows[schedule.schedule_id] = schedule
    return runner, schedules, tasks, bus, repos, schedule.schedule_id


async def user_tasks(tasks, user="alice"):
    page, _ = await tasks.list_for_user(user, limit=100)
    return page


async def test_one_task_per_due_minute_owned_by_the_schedules_user():
    runner, schedules, tasks, bus, _, sid = setup(overlap="allow")
    assert (await runner.run(T0 + timedelta(seconds=30)))["schedule_runs"] == 0  # not due yet
    for minute in (1, 2, 3):
        summary = await runner.run(T0 + timedelta(minutes=minute, seconds=5))
        assert summary["schedule_runs"] == 1
    created = await user_tasks(tasks)
    assert len(created) == 3 and len(bus.of(TaskSubmitted)) == 3
    for task in created:
        assert task.channel_source == "schedule" and task.schedule_id == sid and task.max_turns == 7
        assert task.task_description == "update deps" and task.repo == "acme/app"
    row = schedules.rows[sid]
    assert row.runs == 3 and row.last_run_at == iso(T0 + timedelta(minutes=3))
    assert row.next_run_at == iso(T0 + timedelta(minutes=4))


async def test_duplicate_and_concurrent_ticks_create_one_task():
    runner, schedules, tasks, bus, repos, sid = setup()
    other = ScheduleRunner(schedules, tasks, repos, bus, runner.outcomes)
    stale = schedules.rows[sid]
    now = T0 + timedelta(minutes=1, seconds=1)
    await runner.run(now)
    await runner.run(now)  # a redelivered tick: nothing is due any more
    # A second runner that read the schedule before the first advanced it claims the same due time.
    assert await other._run_one(stale, now) is None
    assert len(await user_tasks(tasks)) == 1 and len(bus.of(TaskSubmitted)) == 1


async def test_overlap_skip_records_a_skipped_run_while_the_previous_is_active():
    runner, schedules, tasks, _, _, sid = setup()
    await runner.run(T0 + timedelta(minutes=1))
    first = (await user_tasks(tasks))[0]
    summary = await runner.run(T0 + timedelta(minutes=2))
    assert summary["schedule_skips"] == 1 and len(await user_tasks(tasks)) == 1
    assert schedules.rows[sid].skipped_runs == 1
    assert schedules.rows[sid].last_skipped_at == iso(T0 + timedelta(minutes=2))
    await tasks.transition(first.task_id, S.CANCELLED)
    assert (await runner.run(T0 + timedelta(minutes=3)))["schedule_runs"] == 1
    assert len(await user_tasks(tasks)) == 2


async def test_missed_due_times_make_one_task_not_a_burst():
    runner, schedules, tasks, _, _, sid = setup(overlap="allow")
    await runner.run(T0 + timedelta(hours=5, seconds=10))
    assert len(await user_tasks(tasks)) == 1
    assert schedules.rows[sid].last_run_at == iso(T0 + timedelta(hours=5))


async def test_offboarded_repo_pauses_the_schedule_with_a_reason():
    runner, schedules, tasks, _, repos, sid = setup()
    repos.rows["acme/app"] = RepoConfig(repo="acme/app", status="removed")
    summary = await runner.run(T0 + timedelta(minutes=1))
    row = schedules.rows[sid]
    assert summary["schedule_pauses"] == 1 and row.paused and "no longer onboarded" in row.paused_reason
    assert await user_tasks(tasks) == []
    assert (await schedules.due(iso(T0 + timedelta(days=1)))) == []  # a paused schedule is never due


async def test_a_lost_publish_is_not_repeated_by_the_next_claim():
    runner, schedules, tasks, bus, _, sid = setup()

    class FailingBus(RecordingBus):
        async def publish(self, *details):
            raise RuntimeError("bus down")

    runner.bus = FailingBus()
    try:
        await runner.run(T0 + timedelta(minutes=1))
    except RuntimeError:
        pass
    assert schedules.rows[sid].runs == 0  # not advanced: the due time is claimed again
    runner.bus = bus
    await runner.run(T0 + timedelta(minutes=1, seconds=20))
    created = await user_tasks(tasks)
    assert len(created) == 1 and schedules.rows[sid].last_task_id == created[0].task_id
    # The task exists as SUBMITTED; its TaskSubmitted is re-sent by the stale-SUBMITTED repair, not here.
    assert created[0].status == S.SUBMITTED


async def test_a_run_on_a_pull_request_its_user_did_not_open_pauses_the_schedule():
    runner, schedules, tasks, _, repos, sid = setup(overlap="allow")
    schedules.rows[sid] = schedules.rows[sid].model_copy(update={"template": TaskTemplate(
        repo="acme/app", task_type="pr_iteration", pr_number=7)})
    runner.outcomes.rows[("acme/app", 7)] = PullOpener(repo="acme/app", pr_number=7, user_id="bob", task_id="t-bob")
    summary = await runner.run(T0 + timedelta(minutes=1, seconds=5))
    assert summary["schedule_pauses"] == 1 and await user_tasks(tasks) == []
    assert schedules.rows[sid].paused and "#7" in schedules.rows[sid].paused_reason
    repos.rows["acme/app"] = RepoConfig(repo="acme/app", pr_tasks="any_user")  # the repo opens PR work to all
    schedules.rows[sid] = schedules.rows[sid].model_copy(update={"paused": False})
    assert (await runner.run(T0 + timedelta(minutes=2, seconds=5)))["schedule_runs"] == 1
    assert [t.pr_number for t in await user_tasks(tasks)] == [7]


async def test_a_run_carries_the_templates_engine():
    runner, schedules, tasks, _, _, sid = setup()
    schedules.rows[sid].template = TaskTemplate(repo="acme/app", task_description="update deps", engine="claude-code")
    await runner.run(T0 + timedelta(minutes=1))
    assert [t.engine for t in await user_tasks(tasks)] == ["claude-code"]

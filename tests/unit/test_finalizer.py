"""The outcome matrix and the finalizer's handling of reports and stopped sessions."""

import pytest

from services.finalizer.decision import Evidence, decide
from services.finalizer.handlers import Finalizer
from shared.events.models import (
    AgentFinished,
    ComputeSessionStopped,
    EcsTaskStateChange,
    SlotReleased,
    TaskCompleted,
    TaskFailed,
)
from shared.messaging.errors import RetryLater
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S
from tests.fakes.collaborators import FakeGitHost, InMemoryMemory, InMemoryPullOutcomes, RecordingBus
from tests.fakes.tasks import InMemoryTaskStore
from tests.support.routing import handle

NO_WORK = Evidence(None, None, 0)
PR = Evidence("https://pr/1", 1, 2)
COMMITS_ONLY = Evidence(None, None, 3)


def _task(agent_status=None, **kw):
    return Task.new(user_id="u", repo="a/b", task_description="x").model_copy(
        update={"agent_status": agent_status, **kw})


@pytest.mark.parametrize("agent,evidence,status,code", [
    ("success", PR, S.COMPLETED, None),
    ("success", COMMITS_ONLY, S.COMPLETED, None),
    ("success", NO_WORK, S.COMPLETED, None),
    ("error", PR, S.FAILED, "AGENT_ERROR"),
    ("error", NO_WORK, S.FAILED, "AGENT_ERROR"),
    (None, PR, S.FAILED, "AGENT_CRASHED"),
    (None, NO_WORK, S.FAILED, "AGENT_CRASHED"),
])
def test_matrix(agent, evidence, status, code):
    outcome = decide(_task(agent, error_message="boom" if agent == "error" else None), evidence)
    assert (outcome.status, outcome.error_code) == (status, code)
    if status == S.FAILED:
        assert outcome.error_message
        assert ("partial work" in outcome.error_message) == (evidence is not NO_WORK)


def test_agent_error_codes_are_kept():
    outcome = decide(_task("error", error_code="MAX_TURNS_REACHED", error_message="cap"), NO_WORK)
    assert outcome.error_code == "MAX_TURNS_REACHED"


async def _running(store, **agent_result):
    task = await store.create(Task.new(user_id="u", repo="a/b", task_description="x"))
    await store.transition(task.task_id, S.HYDRATING, max_active=3)
    await store.transition(task.task_id, S.RUNNING)
    if agent_result:
        await store.update(task.task_id, agent_result, expected_status=S.RUNNING)
    return task


@pytest.fixture
def world():
    store, git, bus = InMemoryTaskStore(), FakeGitHost(), RecordingBus()
    git.add_repo("a/b")
    return store, git, bus, Finalizer(store, git, bus)


async def test_the_pull_request_a_new_task_opened_is_recorded_as_its_users_once():
    store, git, bus, outcomes = InMemoryTaskStore(), FakeGitHost(), RecordingBus(), InMemoryPullOutcomes()
    git.add_repo("a/b")
    fin = Finalizer(store, git, bus, outcomes=outcomes)
    task = await _running(store, agent_status="success")
    pr = await git.create_pull("a/b", head=task.branch_name, base="main", title="t", body="b")
    await handle(fin, AgentFinished(task_id=task.task_id, outcome="success"))
    opener = await outcomes.opener("a/b", pr.number)
    assert (opener.user_id, opener.task_id) == ("u", task.task_id)
    await handle(fin, AgentFinished(task_id=task.task_id, outcome="success"))  # redelivered: nothing changes
    assert await outcomes.opener("a/b", pr.number) == opener


async def test_success_with_a_pull_request_completes_and_releases(world):
    store, git, bus, fin = world
    task = await _running(store, agent_status="success")
    await git.create_pull("a/b", head=task.branch_name, base="main", title="t", body="b")
    git.ahead[("a/b", task.branch_name)] = 1
    await handle(fin, AgentFinished(task_id=task.task_id, outcome="success"))
    done = await store.get(task.task_id)
    assert done.status == S.COMPLETED and done.pr_url and done.commit_count == 1
    assert bus.of(TaskCompleted) and bus.of(SlotReleased)
    assert (await store.get_concurrency("u")).active_count == 0


async def test_session_stopped_without_a_report_fails_readably(world):
    store, _, bus, fin = world
    task = await _running(store)
    await handle(fin, ComputeSessionStopped(task_id=task.task_id, compute_handle="p", exit_code=-9))
    failed = await store.get(task.task_id)
    assert failed.status == S.FAILED and failed.error_code == "AGENT_CRASHED"
    assert "-9" in failed.error_message
    assert bus.of(TaskFailed)


async def test_both_signals_finalize_once(world):
    store, _, bus, fin = world
    task = await _running(store, agent_status="success")
    await handle(fin, AgentFinished(task_id=task.task_id, outcome="success"))
    await handle(fin, ComputeSessionStopped(task_id=task.task_id, compute_handle="p", exit_code=0))
    await handle(fin, AgentFinished(task_id=task.task_id, outcome="success"))
    assert [e.metadata["to"] for e in store.events[task.task_id]][-2:] == ["FINALIZING", "COMPLETED"]
    assert len(bus.of(TaskCompleted)) == 1


async def test_session_ended_before_running_is_looked_at_again(world):
    store, _, _, fin = world
    task = await store.create(Task.new(user_id="u", repo="a/b", task_description="x"))
    await store.transition(task.task_id, S.HYDRATING, max_active=3)
    with pytest.raises(RetryLater):
        await handle(fin, ComputeSessionStopped(task_id=task.task_id, compute_handle="p", exit_code=1))


async def test_git_host_down_decides_from_the_agent_report(world):
    store, git, _, fin = world
    task = await _running(store, agent_status="success", pr_url="https://pr/9", commit_count=1)
    git.down = True
    await handle(fin, AgentFinished(task_id=task.task_id, outcome="success"))
    done = await store.get(task.task_id)
    assert done.status == S.COMPLETED and done.pr_url == "https://pr/9"


async def test_cancelled_task_is_left_alone(world):
    store, _, bus, fin = world
    task = await _running(store)
    cancelled = await store.transition(task.task_id, S.CANCELLED)
    await store.mark_sent(task.task_id, sorted(cancelled.outbox))  # the canceller published its notices
    await handle(fin, AgentFinished(task_id=task.task_id, outcome="success"))
    assert (await store.get(task.task_id)).status == S.CANCELLED and not bus.published


class Claims:
    """Warm capacity's claims by ECS task ARN (SessionClaims.task_of, tested against the emulator)."""

    def __init__(self, claimed: dict[str, str]):
        self.claimed = claimed

    async def task_of(self, task_arn: str) -> str | None:
        return self.claimed.get(task_arn)


def _ecs_stopped(group: str, started_by: str | None, arn: str = "arn:aws:ecs:us-east-1:1:task/c/abc"):
    return EcsTaskStateChange.model_validate({"taskArn": arn, "lastStatus": "STOPPED", "group": group,
                                              "startedBy": started_by, "stoppedReason": "OutOfMemoryError"})


async def test_a_warm_agents_stopped_container_finalizes_the_task_it_claimed(world):
    store, git, bus, _ = world
    task = await _running(store)
    fin = Finalizer(store, git, bus, claims=Claims({"arn:aws:ecs:us-east-1:1:task/c/abc": task.task_id}))
    # A service's task carries the service's deployment in startedBy, never the task id.
    await handle(fin, _ecs_stopped("service:s-agents", "ecs-svc/1234567890"))
    failed = await store.get(task.task_id)
    assert failed.status == S.FAILED and "OutOfMemoryError" in failed.error_message


async def test_a_warm_agent_that_claimed_nothing_stopping_changes_nothing(world):
    store, git, bus, _ = world
    task = await _running(store)
    fin = Finalizer(store, git, bus, claims=Claims({}))
    await handle(fin, _ecs_stopped("service:s-agents", "ecs-svc/1234567890"))  # scale-in of an idle agent
    assert (await store.get(task.task_id)).status == S.RUNNING and not bus.published


async def test_a_run_task_sessions_stopped_container_is_still_found_by_started_by(world):
    store, git, bus, _ = world
    task = await _running(store)
    fin = Finalizer(store, git, bus, claims=Claims({}))
    await handle(fin, _ecs_stopped("family:s-agent", task.task_id))
    assert (await store.get(task.task_id)).status == S.FAILED


async def test_an_evaluation_attempt_completes_from_its_own_report_and_leaves_no_memory():
    store, git, bus, memory = InMemoryTaskStore(), FakeGitHost(), RecordingBus(), InMemoryMemory()
    git.add_repo("a/b")
    fin = Finalizer(store, git, bus, memory=memory)
    task = await store.create(Task.new(user_id="u", repo="a/b", task_description="x", channel_source="eval",
                                       eval_id="ev1", case_id="c1", attempt=1))
    await store.transition(task.task_id, S.HYDRATING, max_active=3)
    await store.transition(task.task_id, S.RUNNING)
    await store.update(task.task_id, {"agent_status": "success", "commit_count": 1, "reward": 1,
                                      "grade": "passed", "diff_key": f"diffs/{task.task_id}.patch"},
                       expected_status=S.RUNNING)
    await handle(fin, AgentFinished(task_id=task.task_id, outcome="success"))
    done = await store.get(task.task_id)
    assert done.status == S.COMPLETED and done.commit_count == 1 and (done.reward, done.grade) == (1, "passed")
    assert memory.entries == {}, "attempts neither read nor write repository memory"


def test_an_oracle_whose_reference_patch_fails_keeps_its_classification():
    outcome = decide(_task("error", error_code="GOLD_PATCH_FAILED", error_message="does not apply"), NO_WORK)
    assert (outcome.status, outcome.error_code) == (S.FAILED, "GOLD_PATCH_FAILED")

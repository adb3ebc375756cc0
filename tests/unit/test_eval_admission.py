"""Evaluation attempts take none of their owner's slots: a full user is not held up by a run, nor a run by a user."""

from services.hydrator.handlers import Hydrator
from services.hydrator.settings import HydratorSettings
from shared.evals.cases import EvalCase
from shared.events.models import TaskSubmitted
from shared.repos.models import RepoConfig
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S
from tests.fakes.collaborators import FakeGitHost, InMemoryContexts, InMemoryRepos, RecordingBus
from tests.fakes.eval_cases import InMemoryCases
from tests.fakes.tasks import InMemoryTaskStore


async def test_attempts_are_admitted_beside_a_user_at_the_cap_and_leave_the_users_slots_alone():
    store, git = InMemoryTaskStore(), FakeGitHost()
    git.add_repo("acme/app")
    cases = InMemoryCases()
    for i in range(3):
        cases.add("01JEVAL", EvalCase(id=f"c{i}", repo="acme/app", base="a" * 40, task="x", test_patch="+t",
                                      test_command="true"))
    hydrator = Hydrator(store, InMemoryRepos(RepoConfig(repo="acme/app")), git, InMemoryContexts(), RecordingBus(),
                        HydratorSettings(default_max_concurrency=1, default_model_id="claude-opus-5-5"), cases=cases)

    async def submit(**fields) -> Task:
        task = await store.create(Task.new(user_id="u1", repo="acme/app", task_description="x", **fields))
        await hydrator.on_submitted(TaskSubmitted(task_id=task.task_id, user_id="u1"))
        return await store.get(task.task_id)

    own = await submit()
    queued = await submit()
    assert own.status == S.HYDRATING and queued.status == S.QUEUED  # the user is at the cap
    attempts = [await submit(channel_source="eval", eval_id="01JEVAL", case_id=f"c{i}", attempt=1) for i in range(3)]
    assert {a.status for a in attempts} == {S.HYDRATING} and not any(a.slot_held for a in attempts)
    assert (await store.get_concurrency("u1")).active_count == 1
    for a in attempts:
        await store.transition(a.task_id, S.FAILED, changes={"error_code": "AGENT_ERROR"})
    assert (await store.get_concurrency("u1")).active_count == 1

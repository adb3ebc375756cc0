"""Admission and hydration against in-memory fakes."""

import pytest

from services.hydrator.handlers import Hydrator
from services.hydrator.settings import HydratorSettings
from shared.events.models import SlotReleased, TaskFailed, TaskHydrated, TaskSubmitted
from shared.llm.prices import ModelPrice
from shared.repos.models import RepoConfig
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S
from tests.fakes.collaborators import FakeGitHost, InMemoryContexts, InMemoryRepos, RecordingBus
from tests.fakes.tasks import InMemoryTaskStore


@pytest.fixture
def world():
    store, bus, git, contexts = InMemoryTaskStore(), RecordingBus(), FakeGitHost(), InMemoryContexts()
    repos = InMemoryRepos(RepoConfig(repo="acme/app", test_command="pytest", max_turns=42,
                                     model_prices={"acme-tuned": ModelPrice(input=4, output=20)}))
    git.add_repo("acme/app")
    settings = HydratorSettings(default_max_concurrency=2, default_model_id="claude-opus-5-5",
                                model_prices={"house-model": ModelPrice(input=1, output=2)})
    return store, bus, git, contexts, repos, Hydrator(store, repos, git, contexts, bus, settings)


async def _submit(store, hydrator, **kw):
    task = await store.create(Task.new(user_id="u1", repo=kw.pop("repo", "acme/app"), **kw))
    await hydrator.on_submitted(TaskSubmitted(task_id=task.task_id, user_id="u1"))
    return await store.get(task.task_id)


async def test_admits_hydrates_and_publishes(world):
    store, bus, git, contexts, _, hydrator = world
    git.add_issue("acme/app", 3, "Bug", "It breaks", comments=["old", "new"])
    task = await _submit(store, hydrator, task_description="fix", issue_number=3)
    assert task.status == S.HYDRATING and task.slot_held and task.context_key
    ctx = contexts.items[task.context_key]
    assert "It breaks" in ctx.user_prompt and "new" in ctx.user_prompt and "fix" in ctx.user_prompt
    assert ctx.max_turns == 42  # the repo's setting beats the platform default
    assert ctx.test_command == "pytest" and ctx.model_id == "claude-opus-5-5"
    assert (ctx.model_price.input, ctx.model_price.output) == (4, 20)  # the catalog's price travels with it
    assert len(task.prompt_version) == 64
    assert [type(e) for e in bus.published] == [TaskHydrated]


async def test_the_task_overrides_the_repo(world):
    store, _, _, contexts, _, hydrator = world
    task = await _submit(store, hydrator, task_description="x", max_turns=7, model_id="claude-haiku-4-5")
    ctx = contexts.items[task.context_key]
    assert (ctx.max_turns, ctx.model_id) == (7, "claude-haiku-4-5")


@pytest.mark.parametrize("model_id, price", [("house-model", (1, 2)), ("acme-tuned", (4, 20))])
async def test_operator_prices_from_settings_and_repo_reach_the_agent(world, model_id, price):
    store, _, _, contexts, _, hydrator = world
    task = await _submit(store, hydrator, task_description="x", model_id=model_id)
    ctx = contexts.items[task.context_key]
    assert (ctx.model_price.input, ctx.model_price.output) == price


@pytest.mark.parametrize("model_id, words", [("mystery-model", "unknown model 'mystery-model'"),
                                             ("claude-sonnet-4-5", "use 'claude-sonnet-5-5' instead")])
async def test_an_unpriced_or_retired_model_fails_before_any_model_call(world, model_id, words):
    store, bus, _, contexts, _, hydrator = world
    task = await _submit(store, hydrator, task_description="x", model_id=model_id)
    assert task.status == S.FAILED and task.error_code == "MODEL_UNAVAILABLE" and words in task.error_message
    assert not contexts.items and bus.of(TaskFailed) and bus.of(SlotReleased)


async def test_over_the_cap_the_task_is_queued(world):
    store, bus, _, _, _, hydrator = world
    for _ in range(2):
        await _submit(store, hydrator, task_description="a")
    third = await _submit(store, hydrator, task_description="c")
    assert third.status == S.QUEUED and not third.slot_held
    assert (await store.get_concurrency("u1")).active_count == 2


async def test_slot_release_admits_the_oldest_queued_first(world):
    store, bus, _, _, _, hydrator = world
    first = await _submit(store, hydrator, task_description="1")
    await _submit(store, hydrator, task_description="2")
    q1 = await _submit(store, hydrator, task_description="3")
    q2 = await _submit(store, hydrator, task_description="4")
    await store.transition(first.task_id, S.CANCELLED)
    await hydrator.on_slot_released(SlotReleased(user_id="u1"))
    assert (await store.get(q1.task_id)).status == S.HYDRATING
    assert (await store.get(q2.task_id)).status == S.QUEUED
    await hydrator.on_slot_released(SlotReleased(user_id="u1"))  # a duplicate release admits nobody over the cap
    assert (await store.get(q2.task_id)).status == S.QUEUED
    assert (await store.get_concurrency("u1")).active_count == 2


async def test_unknown_repo_fails_with_a_classified_error(world):
    store, bus, _, _, _, hydrator = world
    task = await _submit(store, hydrator, repo="acme/other", task_description="x")
    assert task.status == S.FAILED and task.error_code == "REPO_NOT_ONBOARDED"
    assert bus.of(TaskFailed) and not bus.of(SlotReleased)


async def test_issue_unreachable_degrades_to_the_description(world):
    store, bus, git, contexts, _, hydrator = world
    git.add_issue("acme/app", 3, "Bug", "It breaks")
    git.issues_down = True
    task = await _submit(store, hydrator, task_description="fix the parser", issue_number=3)
    assert task.status == S.HYDRATING
    ctx = contexts.items[task.context_key]
    assert "fix the parser" in ctx.user_prompt and "It breaks" not in ctx.user_prompt
    assert any(e.event_type == "hydration.degraded" for e in store.events[task.task_id])


async def test_github_unreachable_without_a_description_fails_retryably(world):
    store, bus, git, _, _, hydrator = world
    git.down = True
    task = await _submit(store, hydrator, issue_number=3)
    assert task.status == S.FAILED and task.error_code == "GITHUB_UNAVAILABLE"
    assert (await store.get_concurrency("u1")).active_count == 0


async def test_redelivery_changes_nothing(world):
    store, bus, _, _, _, hydrator = world
    task = await _submit(store, hydrator, task_description="x")
    await hydrator.on_submitted(TaskSubmitted(task_id=task.task_id))
    assert (await store.get_concurrency("u1")).active_count == 1
    assert len(bus.of(TaskHydrated)) == 2  # re-sent, and the dispatcher is idempotent
    transitions = [e.metadata["to"] for e in store.events[task.task_id]]
    assert transitions == ["SUBMITTED", "HYDRATING"]


async def test_missing_issue_fails_the_task_and_releases_the_slot(world):
    store, bus, _, _, _, hydrator = world
    task = await _submit(store, hydrator, issue_number=99)
    assert task.status == S.FAILED and task.error_code == "GITHUB_NOT_FOUND"
    assert bus.of(SlotReleased) and (await store.get_concurrency("u1")).active_count == 0


async def test_a_new_task_queues_behind_older_queued_ones(world):
    store, bus, _, _, _, hydrator = world
    running = [await _submit(store, hydrator, task_description=str(i)) for i in range(2)]
    queued = await _submit(store, hydrator, task_description="q")
    await store.transition(running[0].task_id, S.CANCELLED)  # a slot frees, but its SlotReleased is in flight
    newcomer = await _submit(store, hydrator, task_description="late")
    assert newcomer.status == S.QUEUED and queued.status == S.QUEUED
    assert bus.of(SlotReleased)  # the free slot is announced, so the oldest is admitted first
    await hydrator.on_slot_released(bus.of(SlotReleased)[-1])
    assert (await store.get(queued.task_id)).status == S.HYDRATING
    assert (await store.get(newcomer.task_id)).status == S.QUEUED

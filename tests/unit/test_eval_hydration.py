"""Hydrating an evaluation attempt: the case's base and setup only, no memory, and the hidden parts left out."""

from __future__ import annotations

from services.hydrator.handlers import Hydrator
from services.hydrator.settings import HydratorSettings
from shared.evals.cases import EvalCase
from shared.events.models import TaskSubmitted
from shared.memory.store import MemoryEntry
from shared.repos.models import RepoConfig
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S
from tests.fakes.collaborators import FakeGitHost, InMemoryContexts, InMemoryMemory, InMemoryRepos, RecordingBus
from tests.fakes.eval_cases import InMemoryCases
from tests.fakes.tasks import InMemoryTaskStore

HIDDEN = "def test_hidden_marker_q9(): assert slug('A B') == 'a-b'"
GOLD = "+    return text.lower().replace(' ', '-')  # gold-marker-q9"
CASE = EvalCase(id="slug-1", repo="acme/app", base="a" * 40, task="Make slug() join words with dashes.",
                test_patch=f"--- a/t.py\n+++ b/t.py\n@@ -0,0 +1 @@\n+{HIDDEN}\n", test_command="pytest -q t.py",
                gold_patch=f"--- a/s.py\n+++ b/s.py\n@@ -1 +1 @@\n-x\n{GOLD}\n", setup_command="make deps")


def hydrator(cases: InMemoryCases | None) -> tuple[InMemoryTaskStore, InMemoryContexts, Hydrator]:
    store, contexts, git, memory = InMemoryTaskStore(), InMemoryContexts(), FakeGitHost(), InMemoryMemory()
    git.add_repo("acme/app")
    memory.entries[("acme/app", "learning#1")] = MemoryEntry(repo="acme/app", kind="learning", entry_id="1",
                                                             text="remembered-learning-q9")
    repos = InMemoryRepos(RepoConfig(repo="acme/app", setup_command="pip install -e ."))
    return store, contexts, Hydrator(store, repos, git, contexts, RecordingBus(),
                                     HydratorSettings(default_max_concurrency=5), memory=memory, cases=cases)


async def submit(store: InMemoryTaskStore, hydrator: Hydrator, **fields: object) -> Task:
    task = await store.create(Task.new(user_id="u1", repo="acme/app", task_description=CASE.task, **fields))
    await hydrator.on_submitted(TaskSubmitted(task_id=task.task_id, user_id="u1"))
    found = await store.get(task.task_id)
    assert found is not None
    return found


async def test_an_attempt_starts_at_the_cases_base_without_memory_or_hidden_text() -> None:
    cases = InMemoryCases()
    cases.add("ev1", CASE)
    store, contexts, hydrator_ = hydrator(cases)
    task = await submit(store, hydrator_, channel_source="eval", eval_id="ev1", case_id="slug-1", attempt=1)
    assert task.status == S.HYDRATING and task.context_key
    ctx = contexts.items[task.context_key]
    assert (ctx.evaluation, ctx.base_commit, ctx.eval_id, ctx.case_id) == (True, "a" * 40, "ev1", "slug-1")
    assert ctx.setup_command == "make deps" and CASE.task in ctx.user_prompt
    everything = ctx.model_dump_json() + task.model_dump_json()
    assert "remembered-learning-q9" not in everything
    assert "hidden_marker_q9" not in everything and "gold-marker-q9" not in everything
    assert "pytest -q t.py" not in everything


async def test_an_ordinary_task_still_reads_memory_and_is_no_attempt() -> None:
    store, contexts, hydrator_ = hydrator(InMemoryCases())
    task = await submit(store, hydrator_)
    ctx = contexts.items[task.context_key or ""]
    assert not ctx.evaluation and ctx.base_commit is None and "remembered-learning-q9" in ctx.user_prompt
    assert ctx.setup_command == "pip install -e ."


async def test_an_attempt_whose_case_is_gone_fails_classified() -> None:
    store, contexts, hydrator_ = hydrator(InMemoryCases())
    task = await submit(store, hydrator_, channel_source="eval", eval_id="ev1", case_id="slug-1", attempt=1)
    assert task.status == S.FAILED and task.error_code == "EVAL_CASE_UNAVAILABLE"
    assert "slug-1" in (task.error_message or "") and not contexts.items

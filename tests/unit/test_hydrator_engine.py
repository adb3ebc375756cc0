"""The hydrator resolves a task's engine (task > repo > platform) and hands the repo's MCP servers to the agent."""

import pytest

from services.hydrator.handlers import Hydrator
from services.hydrator.settings import HydratorSettings
from shared.events.models import SlotReleased, TaskFailed, TaskSubmitted
from shared.repos.mcp import McpServer
from shared.repos.models import RepoConfig
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S
from tests.fakes.collaborators import FakeGitHost, InMemoryContexts, InMemoryRepos, RecordingBus
from tests.fakes.tasks import InMemoryTaskStore

MCP = {"docs": McpServer(command="docs-server", args=["--stdio"]),
       "tracker": McpServer(type="http", url="https://mcp.example.com/v1")}


def _world(repo_engine=None, **settings):
    store, bus, git, contexts = InMemoryTaskStore(), RecordingBus(), FakeGitHost(), InMemoryContexts()
    repos = InMemoryRepos(RepoConfig(repo="acme/app", engine=repo_engine, mcp_servers=MCP))
    git.add_repo("acme/app")
    hydrator = Hydrator(store, repos, git, contexts, bus, HydratorSettings(**{"agent_engines": None, **settings}))
    return store, bus, contexts, hydrator


async def _hydrate(world, **fields):
    store, _, _, hydrator = world
    task = await store.create(Task.new(user_id="u1", repo="acme/app", task_description="x", **fields))
    await hydrator.on_submitted(TaskSubmitted(task_id=task.task_id, user_id="u1"))
    return await store.get(task.task_id)


@pytest.mark.parametrize("task, repo, platform, expected", [
    (None, None, "native", "native"),
    (None, None, "claude-code", "claude-code"),
    (None, "claude-code", "native", "claude-code"),
    ("native", "claude-code", "claude-code", "native"),
])
async def test_the_context_and_the_task_row_carry_the_resolved_engine(task, repo, platform, expected):
    world = _world(repo, default_engine=platform)
    row = await _hydrate(world, **({"engine": task} if task else {}))
    ctx = world[2].items[row.context_key]
    assert ctx.engine == expected and row.engine == expected


async def test_the_repos_mcp_servers_reach_the_agent():
    world = _world("claude-code")
    row = await _hydrate(world)
    assert world[2].items[row.context_key].mcp_servers == MCP


async def test_a_task_whose_engine_the_deployment_lacks_fails_before_any_run():
    # A schedule's run is not vetted by the gateway: its repo may have moved to an engine this image lacks.
    store, bus, contexts, _ = world = _world("claude-code", agent_engines=["native"])
    row = await _hydrate(world)
    assert row.status == S.FAILED and row.error_code == "ENGINE_UNAVAILABLE"
    assert "bgagent[claude-code]" in row.error_message
    assert not contexts.items and bus.of(TaskFailed) and bus.of(SlotReleased)

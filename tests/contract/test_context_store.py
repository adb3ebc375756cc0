"""The ContextStore contract, for the in-memory fake and the S3 store."""

from __future__ import annotations

import pytest

from shared.aws.clients import AwsClients
from shared.hydration.context import HydratedContext, S3ContextStore
from tests.fakes.collaborators import InMemoryContexts


@pytest.fixture(params=["memory", "s3"])
async def contexts(request):
    if request.param == "memory":
        yield InMemoryContexts()
        return
    stack = request.getfixturevalue("stack")
    async with AwsClients(stack.settings) as clients:
        yield S3ContextStore(await clients.client("s3"), stack.names.artifacts_bucket)


def _context(task_id: str, prompt: str = "fix it") -> HydratedContext:
    return HydratedContext(task_id=task_id, repo="a/b", clone_url="/srv/a/b.git", default_branch="main",
                           branch_name=f"bgagent/{task_id}/x", system_prompt="s", user_prompt=prompt,
                           prompt_version="v" * 64, model_id="m", max_turns=5)


async def test_a_stored_context_reads_back_whole_by_its_key(contexts):
    stored = _context("t1", prompt="é" * 300_000)  # beyond an event's size: the reason it is stored apart
    key = await contexts.put(stored)
    assert await contexts.get(key) == stored


async def test_storing_again_replaces_and_a_missing_key_is_none(contexts):
    key = await contexts.put(_context("t2"))
    assert await contexts.put(_context("t2", prompt="second")) == key
    assert (await contexts.get(key)).user_prompt == "second"
    assert await contexts.get("tasks/nope/context.json") is None

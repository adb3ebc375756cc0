"""The MemoryStore contract, for the in-memory fake and the DynamoDB store."""

from __future__ import annotations

import pytest

from shared.aws.clients import AwsClients
from shared.memory.store import DynamoMemoryStore, MemoryEntry
from tests.fakes.collaborators import InMemoryMemory


@pytest.fixture(params=["memory", "dynamodb"])
async def memory(request):
    if request.param == "memory":
        yield InMemoryMemory()
        return
    stack = request.getfixturevalue("stack")
    async with AwsClients(stack.settings) as clients:
        yield DynamoMemoryStore(await clients.client("dynamodb"), stack.names.memory_table)


async def test_recent_is_newest_first_one_kind_one_repo_and_bounded(memory):
    for i in range(4):
        await memory.put(MemoryEntry(repo="a/b", kind="episode", entry_id=f"0{i}", text=f"episode {i}"))
    await memory.put(MemoryEntry(repo="a/b", kind="learning", text="uses tabs"))
    await memory.put(MemoryEntry(repo="c/d", kind="episode", entry_id="09", text="elsewhere"))
    recent = await memory.recent("a/b", "episode", limit=3)
    assert [e.text for e in recent] == ["episode 3", "episode 2", "episode 1"]
    assert [e.text for e in await memory.recent("a/b", "learning")] == ["uses tabs"]


async def test_only_if_new_keeps_the_first_entry(memory):
    first = MemoryEntry(repo="a/b", kind="episode", entry_id="t1", text="by the agent")
    assert await memory.put(first, only_if_new=True)
    assert not await memory.put(first.model_copy(update={"text": "by the finalizer"}), only_if_new=True)
    assert await memory.put(first.model_copy(update={"text": "rewritten"}))
    assert [e.text for e in await memory.recent("a/b", "episode")] == ["rewritten"]

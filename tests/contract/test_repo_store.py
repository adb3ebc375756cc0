"""The RepoStore contract, for the in-memory fake and the DynamoDB store."""

from __future__ import annotations

import pytest

from shared.aws.clients import AwsClients
from shared.repos.models import RepoConfig
from shared.repos.store import DynamoRepoStore
from tests.fakes.collaborators import InMemoryRepos


@pytest.fixture(params=["memory", "dynamodb"])
async def repos(request):
    if request.param == "memory":
        yield InMemoryRepos()
        return
    stack = request.getfixturevalue("stack")
    async with AwsClients(stack.settings) as clients:
        yield DynamoRepoStore(await clients.client("dynamodb"), stack.names.repos_table)


async def test_put_get_and_list(repos):
    assert await repos.get("a/b") is None
    await repos.put(RepoConfig(repo="a/b", max_turns=7, test_command="pytest"))
    await repos.put(RepoConfig(repo="c/d"))
    got = await repos.get("a/b")
    assert (got.max_turns, got.test_command) == (7, "pytest")
    assert sorted(r.repo for r in await repos.list()) == ["a/b", "c/d"]


async def test_put_replaces_the_whole_row(repos):
    await repos.put(RepoConfig(repo="a/b", max_turns=7))
    await repos.put(RepoConfig(repo="a/b", status="removed"))
    got = await repos.get("a/b")
    assert got.max_turns is None and not got.active

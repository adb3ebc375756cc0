"""The PullOutcomeStore contract, for the in-memory fake and the DynamoDB store."""

from __future__ import annotations

import pytest

from shared.aws.clients import AwsClients
from shared.pull_outcomes.models import PullOpener
from shared.pull_outcomes.store import DynamoPullOutcomeStore
from tests.fakes.collaborators import InMemoryPullOutcomes


@pytest.fixture(params=["memory", "dynamodb"])
async def outcomes(request):
    if request.param == "memory":
        yield InMemoryPullOutcomes()
        return
    stack = request.getfixturevalue("stack")
    async with AwsClients(stack.settings) as clients:
        yield DynamoPullOutcomeStore(await clients.client("dynamodb"), stack.names.pull_outcomes_table)


async def test_the_first_opener_recorded_stands(outcomes):
    assert await outcomes.opener("a/b", 7) is None
    first = PullOpener(repo="a/b", pr_number=7, user_id="pat", task_id="t1")
    assert await outcomes.record_opener(first) == first
    again = await outcomes.record_opener(PullOpener(repo="a/b", pr_number=7, user_id="quinn", task_id="t2"))
    assert again == first and await outcomes.opener("a/b", 7) == first
    assert await outcomes.opener("a/b", 8) is None and await outcomes.opener("a/c", 7) is None

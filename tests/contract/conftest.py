"""Every TaskStore implementation, for contract tests that must hold for all of them."""

from __future__ import annotations

import pytest

from shared.aws.clients import AwsClients
from shared.tasks.dynamo_store import DynamoTaskStore
from tests.fakes.tasks import InMemoryTaskStore


@pytest.fixture(params=["memory", "dynamodb"])
async def store(request):
    if request.param == "memory":
        yield InMemoryTaskStore()
        return
    stack = request.getfixturevalue("stack")
    async with AwsClients(stack.settings) as clients:
        yield DynamoTaskStore(await clients.client("dynamodb"), stack.names)


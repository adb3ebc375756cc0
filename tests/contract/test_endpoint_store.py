"""One contract for the EndpointStore: the in-memory fake and DynamoDB (on the emulator) agree."""

from __future__ import annotations

import pytest

from shared.aws.clients import AwsClients
from shared.llm.endpoints import DynamoEndpointStore, ModelEndpoint
from shared.llm.errors import EndpointExists
from shared.llm.prices import PriceBand
from tests.fakes.evals import InMemoryEndpoints


@pytest.fixture(params=["memory", "dynamodb"])
async def endpoints(request):
    if request.param == "memory":
        yield InMemoryEndpoints()
        return
    stack = request.getfixturevalue("stack")
    async with AwsClients(stack.settings) as clients:
        yield DynamoEndpointStore(await clients.client("dynamodb"), stack.names.model_endpoints_table)


def endpoint(name: str, **fields) -> ModelEndpoint:
    return ModelEndpoint(name=name, base_url="https://rl.example.com", key_secret=f"bgagent/s/endpoints/{name}",
                         created_by="ops", **fields)


async def test_registered_once_listed_by_name_and_removed(endpoints):
    b = await endpoints.create(endpoint("b-model", price=PriceBand(input=1, output=2)))
    a = await endpoints.create(endpoint("a-model"))
    with pytest.raises(EndpointExists):
        await endpoints.create(endpoint("a-model"))
    assert await endpoints.get("b-model") == b and await endpoints.get("zzz") is None
    assert [e.name for e in await endpoints.list()] == ["a-model", "b-model"]
    assert await endpoints.delete("a-model") == a and await endpoints.delete("a-model") is None
    assert [e.name for e in await endpoints.list()] == ["b-model"]

"""Registered Anthropic-compatible model endpoints: a task or an evaluation run may send its model calls there."""

from __future__ import annotations

from typing import Any, Protocol

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from shared.aws.dynamo import from_item, serialize, to_item
from shared.aws.guarded import error_code
from shared.clock import utcnow
from shared.llm.errors import EndpointExists
from shared.llm.prices import ModelPrice, PriceBand
from shared.tasks.fields import EndpointName

# A price cannot be 0 (PriceBand): an endpoint without one, for a model the catalog does not know, is priced at
# this, which rounds every task's cost to $0.00.
UNPRICED = ModelPrice(input=1e-9, output=1e-9)


class EndpointRef(BaseModel):
    """What the agent's model relay needs of an endpoint: where, and which secret holds the key (not the key)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    base_url: str
    key_secret: str


class ModelEndpoint(BaseModel):
    """A row of the ModelEndpoints table: where to send calls, and the name (never the value) of the key."""

    model_config = ConfigDict(extra="ignore")

    name: EndpointName
    base_url: str = Field(..., max_length=2000)
    key_secret: str = Field(..., min_length=1, max_length=512)  # a secret's name in the stack's secrets store
    price: PriceBand | None = None  # per million tokens; none: the calls cost 0
    created_by: str
    created_at: str = Field(default_factory=utcnow)

    @property
    def ref(self) -> EndpointRef:
        return EndpointRef(name=self.name, base_url=self.base_url, key_secret=self.key_secret)

    def model_price(self) -> ModelPrice | None:
        """The endpoint's own price, as the agent budgets with it."""
        return ModelPrice(**self.price.model_dump()) if self.price else None


class EndpointStore(Protocol):
    async def create(self, endpoint: ModelEndpoint) -> ModelEndpoint:
        """EndpointExists when the name is taken."""

    async def get(self, name: str) -> ModelEndpoint | None: ...

    async def list(self) -> list[ModelEndpoint]: ...

    async def delete(self, name: str) -> ModelEndpoint | None:
        """Remove and return it; None when there was none."""


class DynamoEndpointStore:
    """EndpointStore over an aiobotocore DynamoDB client (a handful of rows: listing scans)."""

    def __init__(self, ddb: Any, table: str):
        self._ddb = ddb
        self._table = table

    async def create(self, endpoint: ModelEndpoint) -> ModelEndpoint:
        try:
            await self._ddb.put_item(TableName=self._table, Item=to_item(endpoint.model_dump(mode="json")),
                                     ConditionExpression="attribute_not_exists(#n)",
                                     ExpressionAttributeNames={"#n": "name"})
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            raise EndpointExists(endpoint.name) from exc
        return endpoint

    async def get(self, name: str) -> ModelEndpoint | None:
        resp = await self._ddb.get_item(TableName=self._table, Key={"name": serialize(name)}, ConsistentRead=True)
        item = resp.get("Item")
        return ModelEndpoint.model_validate(from_item(item)) if item else None

    async def list(self) -> list[ModelEndpoint]:
        args: dict[str, Any] = {"TableName": self._table, "ConsistentRead": True}
        found: list[ModelEndpoint] = []
        while True:
            resp = await self._ddb.scan(**args)
            found += [ModelEndpoint.model_validate(from_item(i)) for i in resp.get("Items", [])]
            if not resp.get("LastEvaluatedKey"):
                return sorted(found, key=lambda e: e.name)
            args["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    async def delete(self, name: str) -> ModelEndpoint | None:
        resp = await self._ddb.delete_item(TableName=self._table, Key={"name": serialize(name)}, ReturnValues="ALL_OLD")
        item = resp.get("Attributes")
        return ModelEndpoint.model_validate(from_item(item)) if item else None

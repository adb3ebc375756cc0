"""The Repos table."""

from __future__ import annotations

from typing import Any, Protocol

from shared.aws.dynamo import from_item, serialize, to_item
from shared.aws.guarded import GuardedClient
from shared.repos.models import RepoConfig


class RepoStore(Protocol):
    async def get(self, repo: str) -> RepoConfig | None: ...

    async def put(self, config: RepoConfig) -> None: ...

    async def list(self) -> list[RepoConfig]: ...


class DynamoRepoStore:
    """RepoStore over an aiobotocore DynamoDB client."""

    def __init__(self, ddb: Any, table: str):
        self._ddb = GuardedClient(ddb)
        self._table = table

    async def get(self, repo: str) -> RepoConfig | None:
        resp = await self._ddb.get_item(TableName=self._table, Key={"repo": serialize(repo)}, ConsistentRead=True)
        item = resp.get("Item")
        return RepoConfig.model_validate(from_item(item)) if item else None

    async def put(self, config: RepoConfig) -> None:
        await self._ddb.put_item(TableName=self._table, Item=to_item(config.model_dump(mode="json")))

    async def list(self) -> list[RepoConfig]:
        rows: list[RepoConfig] = []
        args: dict[str, Any] = {"TableName": self._table}
        while True:
            resp = await self._ddb.scan(**args)
            rows += [RepoConfig.model_validate(from_item(i)) for i in resp.get("Items", [])]
            if "LastEvaluatedKey" not in resp:
                return rows
            args["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

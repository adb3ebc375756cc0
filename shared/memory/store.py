"""Repository memory: episodes of past tasks and learnings, read at hydration, written at the end."""

from __future__ import annotations

from typing import Any, Literal, Protocol

from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from shared.aws.dynamo import from_item, to_item, values
from shared.aws.guarded import GuardedClient
from shared.clock import new_id, utcnow


class MemoryEntry(BaseModel):
    """One episode (what a task did) or learning (what is true of the repo)."""

    repo: str
    kind: Literal["episode", "learning"]
    entry_id: str = Field(default_factory=new_id)  # a task id for episodes: ULIDs sort by time
    text: str
    task_id: str | None = None
    outcome: str | None = None
    source: Literal["agent", "finalizer"] = "agent"
    created_at: str = Field(default_factory=utcnow)

    @property
    def sk(self) -> str:
        return f"{self.kind}#{self.entry_id}"


class MemoryStore(Protocol):
    async def put(self, entry: MemoryEntry, *, only_if_new: bool = False) -> bool:
        """Write an entry; with only_if_new, keep an existing one (returns False)."""

    async def recent(self, repo: str, kind: str, *, limit: int = 20) -> list[MemoryEntry]:
        """The newest entries of one kind, newest first."""


class DynamoMemoryStore:
    """MemoryStore over the Memory table (repo, sk)."""

    def __init__(self, ddb: Any, table: str):
        self._ddb = GuardedClient(ddb)
        self._table = table

    async def put(self, entry: MemoryEntry, *, only_if_new: bool = False) -> bool:
        item = to_item({**entry.model_dump(), "sk": entry.sk})
        args: dict[str, Any] = {"TableName": self._table, "Item": item}
        if only_if_new:
            args["ConditionExpression"] = "attribute_not_exists(sk)"
        try:
            await self._ddb.put_item(**args)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    async def recent(self, repo: str, kind: str, *, limit: int = 20) -> list[MemoryEntry]:
        resp = await self._ddb.query(
            TableName=self._table, KeyConditionExpression="#r = :r AND begins_with(sk, :k)",
            ExpressionAttributeNames={"#r": "repo"}, ExpressionAttributeValues=values({":r": repo, ":k": f"{kind}#"}),
            ScanIndexForward=False, Limit=limit)
        return [MemoryEntry.model_validate(from_item(i)) for i in resp.get("Items", [])]

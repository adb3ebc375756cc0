"""Reading a task's audit trail after a given event id: what a live stream polls."""

from __future__ import annotations

from typing import Any, Protocol

from shared.aws.dynamo import from_item, values
from shared.tasks.models import TaskEvent


class EventReader(Protocol):
    """The newest events of one task, in id order."""

    async def events_after(self, task_id: str, after: str | None, *, limit: int = 100) -> list[TaskEvent]:
        """Up to `limit` events with ids greater than `after` (from the first one without it)."""


class DynamoEventReader:
    """EventReader over the TaskEvents table: one strongly consistent Query per call."""

    def __init__(self, ddb: Any, table: str):
        self._ddb = ddb
        self._table = table

    async def events_after(self, task_id: str, after: str | None, *, limit: int = 100) -> list[TaskEvent]:
        cond, vals = "task_id = :t", {":t": task_id}
        if after:
            cond, vals[":after"] = cond + " AND event_id > :after", after
        resp = await self._ddb.query(TableName=self._table, KeyConditionExpression=cond, Limit=limit,
                                     ExpressionAttributeValues=values(vals), ScanIndexForward=True,
                                     ConsistentRead=True)
        return [TaskEvent.model_validate(from_item(i)) for i in resp.get("Items", [])]

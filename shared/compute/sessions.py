"""Warm capacity's claims: which agent task took which coding task, or that its session was called off first.

One row per task, written once: whoever writes first (an idle agent claiming it, or a stop calling it off)
wins, so two agents never run one task and a called-off session is never taken.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

from shared.compute.errors import SessionTaken

ARN_INDEX = "ArnIndex"  # task ARN → task id, for the finalizer's reading of ECS state changes
_KEEP_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class Claim:
    task_id: str
    state: Literal["claimed", "cancelled"]
    task_arn: str | None = None  # the ECS task that claimed it


def _claim(item: dict[str, Any]) -> Claim:
    arn = item.get("task_arn", {}).get("S")
    return Claim(item["task_id"]["S"], "claimed" if arn else "cancelled", arn)


class SessionClaims:
    """The sessions table: a conditional put per task, read by task id or by the claiming ECS task's ARN."""

    def __init__(self, ddb: Any, table: str):
        self._ddb = ddb
        self._table = table

    async def _first(self, task_id: str, fields: dict[str, Any]) -> Claim:
        item = {"task_id": {"S": task_id}, "expires_at": {"N": str(int(time.time()) + _KEEP_SECONDS)}, **fields}
        try:
            await self._ddb.put_item(TableName=self._table, Item=item,
                                     ConditionExpression="attribute_not_exists(task_id)",
                                     ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            raise SessionTaken(_claim(exc.response["Item"])) from exc
        return _claim(item)

    async def claim(self, task_id: str, task_arn: str) -> Claim:
        """Take the task's session for this ECS task; SessionTaken if it was claimed or called off before."""
        return await self._first(task_id, {"task_arn": {"S": task_arn}})

    async def call_off(self, task_id: str) -> Claim:
        """Make sure no agent takes the session from now on; the standing claim if an agent already took it."""
        try:
            return await self._first(task_id, {})
        except SessionTaken as exc:
            return exc.current

    async def get(self, task_id: str) -> Claim | None:
        item = (await self._ddb.get_item(TableName=self._table, Key={"task_id": {"S": task_id}},
                                         ConsistentRead=True)).get("Item")
        return _claim(item) if item else None

    async def task_of(self, task_arn: str) -> str | None:
        """The task an ECS task claimed, if it claimed one (an idle agent that stopped claimed none)."""
        items = (await self._ddb.query(TableName=self._table, IndexName=ARN_INDEX,
                                       KeyConditionExpression="task_arn = :arn",
                                       ExpressionAttributeValues={":arn": {"S": task_arn}})).get("Items", [])
        return items[0]["task_id"]["S"] if items else None

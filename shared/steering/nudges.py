"""The Nudges table: a task owner's messages, received while RUNNING and delivered to the agent once."""

from __future__ import annotations

from typing import Protocol

from shared.aws.dynamo import from_item, serialize, values
from shared.clock import utcnow
from shared.steering.models import Nudge
from shared.steering.transactions import RUNNING, SteeringTables


class NudgeStore(Protocol):
    async def add(self, nudge: Nudge) -> Nudge:
        """Store the nudge and its nudge.received event, only while the task is RUNNING (else TaskNotSteerable)."""

    async def pending(self, task_id: str) -> list[Nudge]:
        """The task's nudges not delivered yet, oldest first."""

    async def deliver(self, nudge: Nudge) -> bool:
        """Mark it delivered with its nudge.delivered event, once; False if already delivered or not RUNNING."""


class DynamoNudgeStore:
    """NudgeStore on DynamoDB: each write is one transaction with the task check and the event."""

    def __init__(self, tables: SteeringTables):
        self._t = tables

    async def add(self, nudge: Nudge) -> Nudge:
        await self._t.put_while_running(nudge.task_id, self._t.nudges, "nudge_id", nudge.model_dump(),
                                        "nudge.received", {"nudge_id": nudge.nudge_id, "message": nudge.message})
        return nudge

    async def pending(self, task_id: str) -> list[Nudge]:
        resp = await self._t.ddb.query(
            TableName=self._t.nudges, KeyConditionExpression="task_id = :t", FilterExpression="#st = :p",
            ExpressionAttributeNames={"#st": "status"}, ExpressionAttributeValues=values({":t": task_id,
                                                                                         ":p": "pending"}),
            ConsistentRead=True)
        return [Nudge.model_validate(from_item(i)) for i in resp.get("Items", [])]

    async def deliver(self, nudge: Nudge) -> bool:
        return await self._t.transact([
            self._t.task_in(nudge.task_id, RUNNING),
            {"Update": {"TableName": self._t.nudges,
                        "Key": {"task_id": serialize(nudge.task_id), "nudge_id": serialize(nudge.nudge_id)},
                        "UpdateExpression": "SET #st = :d, delivered_at = :now", "ConditionExpression": "#st = :p",
                        "ExpressionAttributeNames": {"#st": "status"},
                        "ExpressionAttributeValues": values({":d": "delivered", ":p": "pending", ":now": utcnow()})}},
            self._t.event(nudge.task_id, "nudge.delivered", {"nudge_id": nudge.nudge_id})], "deliver") is None

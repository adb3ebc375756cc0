"""The Schedules table: owners' listings, due schedules, and conditional updates."""

from __future__ import annotations

from typing import Any, Mapping, Protocol

from botocore.exceptions import ClientError

from shared.aws.dynamo import from_item, serialize, to_item, values
from shared.aws.pagination import InvalidToken, decode_token, encode_token
from shared.clock import utcnow
from shared.schedules.errors import ScheduleChanged, ScheduleNotFound
from shared.schedules.models import DUE_ACTIVE, Schedule


class ScheduleStore(Protocol):
    async def create(self, schedule: Schedule) -> Schedule: ...

    async def get(self, schedule_id: str) -> Schedule | None: ...

    async def list_for_user(
        self, user_id: str, *, limit: int = 20, next_token: str | None = None
    ) -> tuple[list[Schedule], str | None]:
        """One page of a user's schedules, oldest first; InvalidToken for a token of another listing."""

    async def due(self, now: str, *, limit: int = 100) -> list[Schedule]:
        """Active schedules whose next run is at or before `now`, earliest first."""

    async def update(self, schedule_id: str, changes: Mapping[str, Any], *,
                     expect: Mapping[str, Any]) -> Schedule:
        """Apply `changes` only while every field in `expect` still has its value (None: absent);
        ScheduleNotFound, or ScheduleChanged when another write won."""

    async def delete(self, schedule_id: str) -> None:
        """Remove a schedule; ScheduleNotFound if there is none."""


def apply_changes(schedule: Schedule, changes: Mapping[str, Any]) -> Schedule:
    """The schedule with `changes` applied and validated, stamped with a new updated_at."""
    data = schedule.model_dump()
    data.update(changes)
    data["updated_at"] = utcnow()
    data["version"] = schedule.version + 1
    return Schedule.model_validate(data)


class DynamoScheduleStore:
    """ScheduleStore over an aiobotocore DynamoDB client (UserIndex lists, the sparse DueIndex finds due ones)."""

    def __init__(self, ddb: Any, table: str):
        self._ddb = ddb
        self._table = table

    async def create(self, schedule: Schedule) -> Schedule:
        await self._ddb.put_item(TableName=self._table, Item=to_item(schedule.to_record()),
                                 ConditionExpression="attribute_not_exists(schedule_id)")
        return schedule

    async def get(self, schedule_id: str) -> Schedule | None:
        resp = await self._ddb.get_item(TableName=self._table, Key={"schedule_id": serialize(schedule_id)},
                                        ConsistentRead=True)
        item = resp.get("Item")
        return Schedule.model_validate(from_item(item)) if item else None

    async def list_for_user(
        self, user_id: str, *, limit: int = 20, next_token: str | None = None
    ) -> tuple[list[Schedule], str | None]:
        args: dict[str, Any] = {
            "TableName": self._table, "IndexName": "UserIndex", "KeyConditionExpression": "user_id = :u",
            "ExpressionAttributeValues": values({":u": user_id}), "Limit": limit,
        }
        start = decode_token(next_token)
        if start is not None:
            if set(start) != {"schedule_id", "user_id", "created_at"} or start.get("user_id") != {"S": user_id} or (
                    not all(isinstance(v, dict) and list(v) == ["S"] for v in start.values())):
                raise InvalidToken("next_token belongs to another listing")
            args["ExclusiveStartKey"] = start
        resp = await self._ddb.query(**args)
        rows = [Schedule.model_validate(from_item(i)) for i in resp.get("Items", [])]
        return rows, encode_token(resp.get("LastEvaluatedKey"))

    async def due(self, now: str, *, limit: int = 100) -> list[Schedule]:
        resp = await self._ddb.query(
            TableName=self._table, IndexName="DueIndex", KeyConditionExpression="due = :a AND next_run_at <= :now",
            ExpressionAttributeValues=values({":a": DUE_ACTIVE, ":now": now}), Limit=limit)
        return [Schedule.model_validate(from_item(i)) for i in resp.get("Items", [])]

    async def update(self, schedule_id: str, changes: Mapping[str, Any], *,
                     expect: Mapping[str, Any]) -> Schedule:
        current = await self.get(schedule_id)
        if current is None:
            raise ScheduleNotFound(schedule_id)
        updated = apply_changes(current, changes)
        # The item is rewritten whole: it must still be the version read, and as the caller expects.
        guard = {**expect, "version": current.version}
        names = {f"#e{i}": k for i, k in enumerate(guard)}
        conds = ["attribute_exists(schedule_id)"] + [
            f"#e{i} = :e{i}" if v is not None else f"attribute_not_exists(#e{i})" for i, v in enumerate(guard.values())]
        vals = {f":e{i}": v for i, v in enumerate(guard.values()) if v is not None}
        try:
            await self._ddb.put_item(TableName=self._table, Item=to_item(updated.to_record()),
                                     ConditionExpression=" AND ".join(conds), ExpressionAttributeNames=names,
                                     ExpressionAttributeValues=values(vals))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            raise ScheduleChanged(f"schedule {schedule_id} changed since it was read") from exc
        return updated

    async def delete(self, schedule_id: str) -> None:
        try:
            await self._ddb.delete_item(TableName=self._table, Key={"schedule_id": serialize(schedule_id)},
                                        ConditionExpression="attribute_exists(schedule_id)")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            raise ScheduleNotFound(schedule_id) from exc


"""TaskStore on DynamoDB: conditional writes and single-transaction slot accounting."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Collection, Mapping, Sequence

from botocore.exceptions import ClientError

from shared.aws.dynamo import from_item, serialize, to_item, values
from shared.aws.errors import StoreUnavailable
from shared.aws.guarded import GuardedClient, error_code
from shared.aws.pagination import InvalidToken, decode_token, encode_token
from shared.clock import utcnow
from shared.tasks import dynamo_listing
from shared.tasks import dynamo_writes as w
from shared.tasks.errors import IdempotencyConflict, SlotUnavailable, TaskNotFound, TransitionConflict
from shared.tasks.event_types import EventType
from shared.tasks.models import IDEMPOTENCY_TTL_SECONDS, Task, TaskEvent, UserConcurrency
from shared.tasks.pending import OUTBOX_PENDING, outbox_entries
from shared.tasks.plan import TransitionPlan, plan_transition, transition_event
from shared.tasks.states import TaskStatus
from shared.topology.names import ResourceNames

log = logging.getLogger(__name__)

# A transaction cancelled by a concurrent one (not by a condition) is tried again this many times.
_CONFLICT_ATTEMPTS = 4


def _is(exc: ClientError, code: str) -> bool:
    return error_code(exc) == code


class _Conflicted(Exception):
    """A transaction lost a race with another one: re-read and plan again."""


class DynamoTaskStore:
    """TaskStore over an aiobotocore DynamoDB client."""

    def __init__(self, ddb: Any, names: ResourceNames):
        self._ddb = GuardedClient(ddb)
        self._tasks = names.tasks_table
        self._events = names.task_events_table
        self._counters = names.user_concurrency_table
        self._idem = names.idempotency_table

    async def create(self, task: Task, *, announce: Sequence[Any] = ()) -> Task:
        pending = outbox_entries(announce, task.created_at)
        task = task.model_copy(update={"outbox": pending, "outbox_pending": OUTBOX_PENDING if pending else None})
        items: list[dict] = [
            {"Put": {"TableName": self._tasks, "Item": to_item(task.to_record()),
                     "ConditionExpression": "attribute_not_exists(task_id)"}},
            w.event_put(self._events, transition_event(task, None, {})),
        ]
        if task.idempotency_key:
            items.append(self._idempotency_put(task))
        for attempt in range(1, _CONFLICT_ATTEMPTS + 1):
            try:
                await self._ddb.transact_write_items(TransactItems=items)
                return task
            except ClientError as exc:
                why = w.Cancellation.of(exc, "create")
                if task.idempotency_key and why.failed(2):
                    raise await self._idempotency_conflict(task.idempotency_key) from exc
                # Two requests racing on one key: DynamoDB may cancel one with TransactionConflict
                # instead of a failed condition; try again, and the loser sees the key.
                if not why.conflicted or attempt == _CONFLICT_ATTEMPTS:
                    raise StoreUnavailable(f"create cancelled: {why.reasons}") from exc
                await asyncio.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    def _idempotency_put(self, task: Task) -> dict:
        return {"Put": {
            "TableName": self._idem,
            "Item": to_item({"key": task.idempotency_key, "task_id": task.task_id, "user_id": task.user_id,
                             "created_at": task.created_at,
                             "expires_at": int(time.time()) + IDEMPOTENCY_TTL_SECONDS}),
            # TTL deletes lazily: an expired key is free even while its item still exists.
            "ConditionExpression": "attribute_not_exists(#k) OR expires_at < :now",
            "ExpressionAttributeNames": {"#k": "key"},
            "ExpressionAttributeValues": values({":now": int(time.time())}),
        }}

    async def _idempotency_conflict(self, key: str) -> IdempotencyConflict:
        resp = await self._ddb.get_item(TableName=self._idem, Key={"key": serialize(key)}, ConsistentRead=True)
        found = from_item(resp.get("Item", {}))
        return IdempotencyConflict(key, found.get("task_id", ""), found.get("user_id", ""))

    async def get(self, task_id: str) -> Task | None:
        resp = await self._ddb.get_item(TableName=self._tasks, Key={"task_id": serialize(task_id)}, ConsistentRead=True)
        item = resp.get("Item")
        return Task.model_validate(from_item(item)) if item else None

    async def _require(self, task_id: str) -> Task:
        task = await self.get(task_id)
        if task is None:
            raise TaskNotFound(task_id)
        return task

    async def transition(
        self,
        task_id: str,
        target: TaskStatus,
        *,
        expected: Collection[TaskStatus] | None = None,
        changes: Mapping[str, Any] | None = None,
        max_active: int | None = None,
        event_metadata: Mapping[str, Any] | None = None,
        announce: Sequence[Any] = (),
    ) -> Task:
        for attempt in range(1, _CONFLICT_ATTEMPTS + 1):
            plan = plan_transition(await self._require(task_id), target, expected=expected, changes=changes,
                                   max_active=max_active, event_metadata=event_metadata, announce=announce)
            try:
                await self._commit(plan, with_counter=True)
                return plan.new
            except _Conflicted:
                await asyncio.sleep(0.02 * attempt)
        raise StoreUnavailable(f"task {task_id} kept changing concurrently")

    async def _commit(self, plan: TransitionPlan, *, with_counter: bool) -> None:
        """One TransactWriteItems; a failed condition becomes the typed error carrying what was found."""
        current, now = plan.current, plan.new.updated_at
        items = [w.task_update(self._tasks, plan), w.event_put(self._events, plan.event)]
        if with_counter and plan.acquire:
            items.append(w.acquire(self._counters, current.user_id, plan.max_active or 0, now))
        elif with_counter and plan.release:
            items.append(w.release(self._counters, current.user_id, now))
        try:
            await self._ddb.transact_write_items(TransactItems=items)
        except ClientError as exc:
            why = w.Cancellation.of(exc, "transition")
            if why.failed(0):
                found = why.found or await self._require(current.task_id)
                raise TransitionConflict(found, plan.new.status, "changed concurrently") from exc
            if why.conflicted:
                raise _Conflicted() from exc
            if plan.acquire and why.failed(2):
                raise SlotUnavailable(current.user_id, plan.max_active or 0) from exc
            if plan.release and why.failed(2):
                # The counter already reads 0: drift. The task must still end; the reconciler
                # recounts the user's slots on its next tick.
                log.warning("slot counter already at zero on release", extra={"task_id": current.task_id})
                await self._commit(plan, with_counter=False)
                return
            raise StoreUnavailable(f"transition cancelled: {why.reasons}") from exc

    async def mark_sent(self, task_id: str, entry_ids: Sequence[str]) -> None:
        if not entry_ids:
            return
        names = {"#ob": "outbox", **{f"#e{i}": e for i, e in enumerate(entry_ids)}}
        try:
            resp = await self._ddb.update_item(
                TableName=self._tasks, Key={"task_id": serialize(task_id)},
                UpdateExpression="REMOVE " + ", ".join(f"#ob.#e{i}" for i in range(len(entry_ids))),
                ConditionExpression="attribute_exists(#ob)", ExpressionAttributeNames=names,
                ReturnValues="ALL_NEW")
        except ClientError as exc:
            if _is(exc, "ConditionalCheckFailedException"):
                return  # no outbox at all: nothing left to mark
            raise StoreUnavailable(f"mark_sent: {error_code(exc)}") from exc
        if not resp.get("Attributes", {}).get("outbox", {}).get("M"):
            await self._clear_pending_marker(task_id)

    async def _clear_pending_marker(self, task_id: str) -> None:
        """Take the task off the OutboxIndex, unless a transition announced more meanwhile."""
        try:
            await self._ddb.update_item(
                TableName=self._tasks, Key={"task_id": serialize(task_id)}, UpdateExpression="REMOVE #p",
                ConditionExpression="size(#ob) = :zero", ExpressionAttributeNames={"#p": "outbox_pending",
                                                                                  "#ob": "outbox"},
                ExpressionAttributeValues=values({":zero": 0}))
        except ClientError as exc:
            if not _is(exc, "ConditionalCheckFailedException"):
                raise StoreUnavailable(f"mark_sent: {error_code(exc)}") from exc

    async def pending_outbox(self, *, updated_before: str, limit: int = 100) -> list[Task]:
        items = await self._query_all({
            "TableName": self._tasks, "IndexName": "OutboxIndex",
            "KeyConditionExpression": "outbox_pending = :p AND updated_at < :before",
            "ExpressionAttributeValues": values({":p": OUTBOX_PENDING, ":before": updated_before}),
        }, limit)
        return [Task.model_validate(i) for i in items]

    async def update(self, task_id: str, changes: Mapping[str, Any], *, expected_status: TaskStatus) -> Task:
        protected = {"status", "slot_held", "task_id", "user_id", "outbox", "outbox_pending"} & set(changes)
        unknown = set(changes) - set(Task.model_fields)
        if not changes or protected or unknown:
            raise ValueError(f"cannot update {sorted(protected | unknown) or 'nothing'} outside a transition")
        record = Task.model_validate(
            {"task_id": task_id, "user_id": "-", "repo": "-", "branch_name": "-", **changes}
        ).model_dump(mode="json")
        names = {"#status": "status"}
        vals: dict[str, Any] = {":expected": expected_status.value}
        for i, field in enumerate(changes):
            names[f"#f{i}"] = field
            vals[f":v{i}"] = record[field]
        try:
            resp = await self._ddb.update_item(
                TableName=self._tasks,
                Key={"task_id": serialize(task_id)},
                UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(changes))),
                ConditionExpression="#status = :expected",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values(vals),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if _is(exc, "ConditionalCheckFailedException"):
                item = exc.response.get("Item")
                found = Task.model_validate(from_item(item)) if item else await self._require(task_id)
                raise TransitionConflict(found, None, f"not {expected_status}") from exc
            raise
        return Task.model_validate(from_item(resp["Attributes"]))

    async def append_event(
        self, task_id: str, event_type: EventType, metadata: Mapping[str, Any] | None = None, *,
        event_id: str | None = None,
    ) -> TaskEvent | None:
        event = TaskEvent(task_id=task_id, event_type=event_type, metadata=dict(metadata or {}))
        if event_id:
            event = event.model_copy(update={"event_id": event_id})
        try:
            await self._ddb.put_item(TableName=self._events, Item=to_item(event.model_dump()),
                                     ConditionExpression="attribute_not_exists(event_id)")
        except ClientError as exc:
            if _is(exc, "ConditionalCheckFailedException"):
                return None
            raise
        return event

    async def list_events(
        self, task_id: str, *, limit: int = 100, next_token: str | None = None
    ) -> tuple[list[TaskEvent], str | None]:
        args: dict[str, Any] = {
            "TableName": self._events,
            "KeyConditionExpression": "task_id = :t",
            "ExpressionAttributeValues": values({":t": task_id}),
            "Limit": limit,
            "ScanIndexForward": True,
        }
        start = decode_token(next_token)
        if start:
            if start.get("task_id") != {"S": task_id}:
                raise InvalidToken("next_token belongs to another listing")
            if set(start) != {"task_id", "event_id"} or not isinstance(start["event_id"], dict) or list(
                    start["event_id"]) != ["S"] or not isinstance(start["event_id"]["S"], str):
                raise InvalidToken("next_token is not valid")  # not a key this store issued
            args["ExclusiveStartKey"] = start
        resp = await self._ddb.query(**args)
        events = [TaskEvent.model_validate(from_item(i)) for i in resp.get("Items", [])]
        return events, encode_token(resp.get("LastEvaluatedKey"))

    async def _query_all(self, args: dict[str, Any], limit: int | None) -> list[dict]:
        items: list[dict] = []
        while True:
            resp = await self._ddb.query(**args)
            items.extend(from_item(i) for i in resp.get("Items", []))
            if (limit and len(items) >= limit) or "LastEvaluatedKey" not in resp:
                return items[:limit] if limit else items
            args["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    async def tasks_in_status(
        self, status: TaskStatus, *, created_before: str | None = None, limit: int | None = None
    ) -> list[Task]:
        cond, vals = "#s = :s", {":s": status.value}
        if created_before:
            cond += " AND created_at < :before"
            vals[":before"] = created_before
        items = await self._query_all({
            "TableName": self._tasks, "IndexName": "StatusIndex", "KeyConditionExpression": cond,
            "ExpressionAttributeNames": {"#s": "status"}, "ExpressionAttributeValues": values(vals),
            "ScanIndexForward": True,
        }, limit)
        return [Task.model_validate(i) for i in items]

    async def oldest_queued(self, user_id: str, *, limit: int = 10) -> list[Task]:
        items = await self._query_all({
            "TableName": self._tasks, "IndexName": "UserStatusIndex",
            "KeyConditionExpression": "user_id = :u AND begins_with(status_created, :p)",
            "ExpressionAttributeValues": values({":u": user_id, ":p": f"{TaskStatus.QUEUED.value}#"}),
            "ScanIndexForward": True, "Limit": limit,
        }, limit)
        return [Task.model_validate(i) for i in items]

    async def list_for_user(
        self,
        user_id: str,
        *,
        statuses: Collection[TaskStatus] | None = None,
        repo: str | None = None,
        limit: int = 20,
        next_token: str | None = None,
    ) -> tuple[list[Task], str | None]:
        return await dynamo_listing.list_for_user(self._ddb, self._tasks, user_id, statuses=statuses, repo=repo,
                                                  limit=limit, next_token=next_token)

    async def get_concurrency(self, user_id: str) -> UserConcurrency:
        resp = await self._ddb.get_item(TableName=self._counters, Key={"user_id": serialize(user_id)},
                                        ConsistentRead=True)
        item = resp.get("Item")
        return UserConcurrency.model_validate(from_item(item)) if item else UserConcurrency(user_id=user_id)

    async def list_concurrency(self) -> list[UserConcurrency]:
        rows: list[UserConcurrency] = []
        args: dict[str, Any] = {"TableName": self._counters, "ConsistentRead": True}
        while True:
            resp = await self._ddb.scan(**args)
            rows.extend(UserConcurrency.model_validate(from_item(i)) for i in resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                return rows
            args["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    async def correct_active_count(self, user_id: str, *, observed: int, actual: int) -> bool:
        cond = ("active_count = :observed" if observed
                else "attribute_not_exists(active_count) OR active_count = :observed")
        try:
            await self._ddb.update_item(
                TableName=self._counters, Key={"user_id": serialize(user_id)},
                UpdateExpression="SET active_count = :actual, updated_at = :now",
                ConditionExpression=cond,
                ExpressionAttributeValues=values({":observed": observed, ":actual": actual, ":now": utcnow()}),
            )
        except ClientError as exc:
            if _is(exc, "ConditionalCheckFailedException"):
                return False
            raise
        return True

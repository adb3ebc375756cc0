"""TaskStore on DynamoDB: conditional writes and single-transaction slot accounting."""

from __future__ import annotations

import logging
import time
from typing import Any, Collection, Mapping

from botocore.exceptions import ClientError

from shared.aws.dynamo import from_item, serialize, to_item, values
from shared.aws.pagination import InvalidToken, decode_token, encode_token
from shared.tasks.errors import IdempotencyConflict, SlotUnavailable, TaskNotFound, TransitionConflict
from shared.tasks.models import IDEMPOTENCY_TTL_SECONDS, TERMINAL_TTL_SECONDS, Task, TaskEvent, UserConcurrency, utcnow
from shared.tasks.states import TaskStatus, acquires_slot, can_transition
from shared.tasks.store import listing_fingerprint
from shared.topology.names import ResourceNames

log = logging.getLogger(__name__)

# A filtered listing reads this many index items per query, and at most this many queries per page.
_FILTERED_PAGE_READ = 100
_MAX_QUERIES_PER_PAGE = 10


def _reasons(exc: ClientError) -> list[str]:
    return [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]


def _is(exc: ClientError, code: str) -> bool:
    return exc.response.get("Error", {}).get("Code") == code


class DynamoTaskStore:
    """TaskStore over an aiobotocore DynamoDB client."""

    def __init__(self, ddb: Any, names: ResourceNames):
        self._ddb = ddb
        self._tasks = names.tasks_table
        self._events = names.task_events_table
        self._counters = names.user_concurrency_table
        self._idem = names.idempotency_table

    async def create(self, task: Task) -> Task:
        items: list[dict] = [
            {"Put": {"TableName": self._tasks, "Item": to_item(task.to_record()),
                     "ConditionExpression": "attribute_not_exists(task_id)"}},
            {"Put": {"TableName": self._events, "Item": to_item(self._transition_event(task, None, {}).model_dump())}},
        ]
        if task.idempotency_key:
            items.append({"Put": {
                "TableName": self._idem,
                "Item": to_item({"key": task.idempotency_key, "task_id": task.task_id, "user_id": task.user_id,
                                 "created_at": task.created_at,
                                 "expires_at": int(time.time()) + IDEMPOTENCY_TTL_SECONDS}),
                # TTL deletes lazily: an expired key is free even while its item still exists.
                "ConditionExpression": "attribute_not_exists(#k) OR expires_at < :now",
                "ExpressionAttributeNames": {"#k": "key"},
                "ExpressionAttributeValues": values({":now": int(time.time())}),
            }})
        try:
            await self._ddb.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if _is(exc, "TransactionCanceledException") and task.idempotency_key and _reasons(exc)[2:3] == [
                "ConditionalCheckFailed"
            ]:
                raise await self._idempotency_conflict(task.idempotency_key) from exc
            raise
        return task

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

    @staticmethod
    def _transition_event(task: Task, previous: TaskStatus | None, metadata: Mapping[str, Any]) -> TaskEvent:
        meta = {"from": previous.value if previous else None, "to": task.status.value, **metadata}
        return TaskEvent(task_id=task.task_id, event_type="transition", timestamp=task.updated_at,
                         metadata={k: v for k, v in meta.items() if v is not None})

    async def transition(
        self,
        task_id: str,
        target: TaskStatus,
        *,
        expected: Collection[TaskStatus] | None = None,
        changes: Mapping[str, Any] | None = None,
        max_active: int | None = None,
        event_metadata: Mapping[str, Any] | None = None,
    ) -> Task:
        current = await self._require(task_id)
        if expected is not None and current.status not in expected:
            raise TransitionConflict(current, target, f"expected {sorted(s.value for s in expected)}")
        if not can_transition(current.status, target):
            raise TransitionConflict(current, target, "transition not allowed")
        acquire = acquires_slot(target)
        if acquire and max_active is None:
            raise ValueError("admission needs max_active")
        release = target.is_terminal and current.slot_held
        now = utcnow()
        update: dict[str, Any] = {**(changes or {}), "status": target, "updated_at": now}
        if acquire:
            update["slot_held"] = True
        if target.is_terminal:
            update["slot_held"] = False
            update.setdefault("completed_at", now)
            update["expires_at"] = int(time.time()) + TERMINAL_TTL_SECONDS
        new = current.model_copy(update=update)
        new = Task.model_validate(new.model_dump())  # re-validate the changed fields
        event = self._transition_event(new, current.status, event_metadata or {})
        items = [self._task_update(current, new, set(update)), self._event_put(event)]
        if acquire:
            items.append(self._acquire(current.user_id, max_active, now))
        elif release:
            items.append(self._release(current.user_id, now))
        try:
            await self._ddb.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if not _is(exc, "TransactionCanceledException"):
                raise
            reasons = _reasons(exc)
            if not reasons or reasons[0] == "ConditionalCheckFailed":
                raise TransitionConflict(await self._require(task_id), target, "changed concurrently") from exc
            if acquire and reasons[2:3] == ["ConditionalCheckFailed"]:
                raise SlotUnavailable(current.user_id, max_active or 0) from exc
            if release and reasons[2:3] == ["ConditionalCheckFailed"]:
                # The counter already reads 0: drift. The task must still end; the reconciler
                # recounts the user's slots on its next tick.
                log.warning("slot counter already at zero on release", extra={"task_id": task_id})
                await self._ddb.transact_write_items(TransactItems=items[:2])
            else:
                raise
        return new

    def _task_update(self, current: Task, new: Task, fields: set[str]) -> dict:
        record = new.to_record()
        names = {"#status": "status", "#held": "slot_held"}
        vals: dict[str, Any] = {":cur": current.status.value, ":held": current.slot_held}
        sets, removes = [], []
        for i, field in enumerate(sorted(fields | {"status_created"})):
            names[f"#f{i}"] = field
            if record.get(field) is None:
                removes.append(f"#f{i}")
            else:
                sets.append(f"#f{i} = :v{i}")
                vals[f":v{i}"] = record[field]
        expr = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        return {"Update": {
            "TableName": self._tasks,
            "Key": {"task_id": serialize(current.task_id)},
            "UpdateExpression": expr,
            "ConditionExpression": "#status = :cur AND #held = :held",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values(vals),
        }}

    def _event_put(self, event: TaskEvent) -> dict:
        return {"Put": {"TableName": self._events, "Item": to_item(event.model_dump()),
                        "ConditionExpression": "attribute_not_exists(event_id)"}}

    def _acquire(self, user_id: str, max_active: int, now: str) -> dict:
        return {"Update": {
            "TableName": self._counters,
            "Key": {"user_id": serialize(user_id)},
            "UpdateExpression": "ADD active_count :one SET updated_at = :now",
            "ConditionExpression": "attribute_not_exists(active_count) OR active_count < :max",
            "ExpressionAttributeValues": values({":one": 1, ":max": max_active, ":now": now}),
        }}

    def _release(self, user_id: str, now: str) -> dict:
        return {"Update": {
            "TableName": self._counters,
            "Key": {"user_id": serialize(user_id)},
            "UpdateExpression": "ADD active_count :minus SET updated_at = :now",
            "ConditionExpression": "active_count > :zero",
            "ExpressionAttributeValues": values({":minus": -1, ":zero": 0, ":now": now}),
        }}

    async def update(self, task_id: str, changes: Mapping[str, Any], *, expected_status: TaskStatus) -> Task:
        protected = {"status", "slot_held", "task_id", "user_id"} & set(changes)
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
            )
        except ClientError as exc:
            if _is(exc, "ConditionalCheckFailedException"):
                raise TransitionConflict(await self._require(task_id), None, f"not {expected_status}") from exc
            raise
        return Task.model_validate(from_item(resp["Attributes"]))

    async def append_event(
        self, task_id: str, event_type: str, metadata: Mapping[str, Any] | None = None, *, event_id: str | None = None
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
        wanted = sorted({TaskStatus(s) for s in statuses or ()})
        listing = listing_fingerprint(user_id, wanted, repo)
        # One status: its own slice of UserStatusIndex. Otherwise the user's whole history by
        # creation time, filtered. Either way newest first, and never a scan.
        sort_attr = "status_created" if len(wanted) == 1 else "created_at"
        args = self._listing_query(user_id, wanted, repo)
        start = _open_listing_token(next_token, listing, user_id, sort_attr)
        filtered = "FilterExpression" in args
        found: list[Task] = []
        for _ in range(_MAX_QUERIES_PER_PAGE):
            args["Limit"] = _FILTERED_PAGE_READ if filtered else limit + 1 - len(found)
            if start:
                args["ExclusiveStartKey"] = start
            try:
                resp = await self._ddb.query(**args)
            except ClientError as exc:
                if next_token and _is(exc, "ValidationException"):
                    raise InvalidToken("next_token is not valid") from exc
                raise
            found.extend(Task.model_validate(from_item(i)) for i in resp.get("Items", []))
            start = resp.get("LastEvaluatedKey")
            if len(found) > limit or not start:
                break
        if len(found) > limit:
            last = found[limit - 1]
            position = {"task_id": last.task_id, "user_id": user_id,
                        sort_attr: last.status_created if sort_attr == "status_created" else last.created_at}
            return found[:limit], encode_token({"l": listing, "k": values(position)})
        return found, encode_token({"l": listing, "k": start}) if start else None

    def _listing_query(self, user_id: str, wanted: list[TaskStatus], repo: str | None) -> dict[str, Any]:
        vals: dict[str, Any] = {":u": user_id}
        names: dict[str, str] = {}
        filters: list[str] = []
        if len(wanted) == 1:
            index, cond = "UserStatusIndex", "user_id = :u AND begins_with(status_created, :p)"
            vals[":p"] = f"{wanted[0].value}#"
        else:
            index, cond = "UserCreatedIndex", "user_id = :u"
            if wanted:
                names["#st"] = "status"
                filters.append("#st IN (" + ", ".join(f":s{i}" for i in range(len(wanted))) + ")")
                vals.update({f":s{i}": s.value for i, s in enumerate(wanted)})
        if repo:
            names["#repo"] = "repo"
            filters.append("#repo = :repo")
            vals[":repo"] = repo
        args: dict[str, Any] = {"TableName": self._tasks, "IndexName": index, "KeyConditionExpression": cond,
                                "ExpressionAttributeValues": values(vals), "ScanIndexForward": False}
        if filters:
            args["FilterExpression"] = " AND ".join(filters)
            args["ExpressionAttributeNames"] = names
        return args

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
        cond = "active_count = :observed" if observed else "attribute_not_exists(active_count) OR active_count = :observed"
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


def _open_listing_token(token: str | None, listing: str, user_id: str, sort_attr: str) -> dict | None:
    """The index position a list_for_user token resumes from, checked to belong to this very listing."""
    value = decode_token(token)
    if value is None:
        return None
    key = value.get("k")
    well_formed = (
        isinstance(key, dict)
        and set(key) == {"task_id", "user_id", sort_attr}
        and all(isinstance(v, dict) and list(v) == ["S"] and isinstance(v["S"], str) for v in key.values())
    )
    if value.get("l") != listing or not well_formed or key["user_id"]["S"] != user_id:
        raise InvalidToken("next_token belongs to another listing")
    return key

"""The Evals table (runs) and the EvalItems table (each run's cases and counted attempts)."""

from __future__ import annotations

from typing import Any, Protocol, Sequence

from botocore.exceptions import ClientError

from shared.aws.dynamo import from_item, serialize, to_item, values
from shared.aws.guarded import error_code
from shared.aws.pagination import InvalidToken, decode_token, encode_token
from shared.clock import utcnow
from shared.evals.errors import AttemptAlreadyCounted, EvalCapReached, EvalChanged
from shared.evals.models import RUNNING, AttemptRecord, CaseRow, EvalRun
from shared.tasks.dynamo_writes import Cancellation

_BATCH = 25
# The platform's count of evaluation attempts started and not yet counted, on an item of its own.
PLACES_KEY = "#platform"


def case_sk(index: int) -> str:
    return f"c#{index:06d}"


def attempt_sk(index: int, attempt: int) -> str:
    return f"a#{index:06d}#{attempt:02d}"


def next_version(run: EvalRun, **changes: Any) -> EvalRun:
    """The run with `changes`, validated, stamped, one version on."""
    return EvalRun.model_validate({**run.model_dump(), **changes, "updated_at": utcnow(), "version": run.version + 1})


class EvalStore(Protocol):
    async def create(self, run: EvalRun, cases: Sequence[CaseRow]) -> EvalRun:
        """Write the cases, then the run (a run is never visible without its cases)."""

    async def get(self, eval_id: str) -> EvalRun | None: ...

    async def list_for_user(self, user_id: str, *, limit: int = 20,
                            next_token: str | None = None) -> tuple[list[EvalRun], str | None]:
        """One page of a user's runs, newest first; InvalidToken for a token of another listing."""

    async def running(self, *, limit: int = 100) -> list[EvalRun]:
        """Runs still running, oldest first."""

    async def replace(self, run: EvalRun, new: EvalRun) -> EvalRun:
        """Write `new` only while the stored run is still `run`'s version; EvalChanged otherwise."""

    async def claim(self, run: EvalRun, new: EvalRun, *, cap: int) -> EvalRun:
        """`replace`, taking one of the platform's `cap` places for evaluation attempts in the same
        transaction: EvalCapReached when all are taken."""

    async def count(self, run: EvalRun, new: EvalRun, record: AttemptRecord) -> EvalRun:
        """Record the attempt, write `new` and give back its place in one transaction: AttemptAlreadyCounted
        if it was recorded before, EvalChanged if the run moved since `run` was read."""

    async def places_taken(self) -> int:
        """Evaluation attempts started and not yet counted, on the whole platform."""

    async def cases(self, eval_id: str, *, start: int = 0, limit: int = 100) -> list[CaseRow]:
        """Cases from index `start`, in order."""

    async def attempts(self, eval_id: str, *, first: int = 0, last: int | None = None) -> list[AttemptRecord]:
        """Counted attempts of cases `first`…`last` (all when `last` is None), in case then attempt order."""


class DynamoEvalStore:
    """EvalStore over an aiobotocore DynamoDB client (a GuardedClient in services)."""

    def __init__(self, ddb: Any, runs_table: str, items_table: str):
        self._ddb = ddb
        self._runs = runs_table
        self._items = items_table

    async def create(self, run: EvalRun, cases: Sequence[CaseRow]) -> EvalRun:
        rows = [{"eval_id": run.eval_id, "sk": case_sk(c.index), **c.model_dump(mode="json")} for c in cases]
        for start in range(0, len(rows), _BATCH):
            pending = {self._items: [{"PutRequest": {"Item": to_item(r)}} for r in rows[start:start + _BATCH]]}
            while pending:
                resp = await self._ddb.batch_write_item(RequestItems=pending)
                pending = resp.get("UnprocessedItems") or {}
        await self._ddb.put_item(TableName=self._runs, Item=to_item(run.to_record()),
                                 ConditionExpression="attribute_not_exists(eval_id)")
        return run

    async def get(self, eval_id: str) -> EvalRun | None:
        resp = await self._ddb.get_item(TableName=self._runs, Key={"eval_id": serialize(eval_id)}, ConsistentRead=True)
        item = resp.get("Item")
        return EvalRun.model_validate(from_item(item)) if item else None

    async def list_for_user(self, user_id: str, *, limit: int = 20,
                            next_token: str | None = None) -> tuple[list[EvalRun], str | None]:
        args: dict[str, Any] = {
            "TableName": self._runs, "IndexName": "UserIndex", "KeyConditionExpression": "user_id = :u",
            "ExpressionAttributeValues": values({":u": user_id}), "Limit": limit, "ScanIndexForward": False}
        start = decode_token(next_token)
        if start is not None:
            if set(start) != {"eval_id", "user_id", "created_at"} or start.get("user_id") != {"S": user_id} or (
                    not all(isinstance(v, dict) and list(v) == ["S"] for v in start.values())):
                raise InvalidToken("next_token belongs to another listing")
            args["ExclusiveStartKey"] = start
        resp = await self._ddb.query(**args)
        return [EvalRun.model_validate(from_item(i)) for i in resp.get("Items", [])], \
            encode_token(resp.get("LastEvaluatedKey"))

    async def running(self, *, limit: int = 100) -> list[EvalRun]:
        resp = await self._ddb.query(TableName=self._runs, IndexName="RunningIndex",
                                     KeyConditionExpression="running = :r",
                                     ExpressionAttributeValues=values({":r": RUNNING}), Limit=limit)
        return [EvalRun.model_validate(from_item(i)) for i in resp.get("Items", [])]

    def _put_run(self, run: EvalRun, new: EvalRun) -> dict[str, Any]:
        return {"TableName": self._runs, "Item": to_item(new.to_record()),
                "ConditionExpression": "attribute_exists(eval_id) AND version = :v",
                "ExpressionAttributeValues": values({":v": run.version})}

    async def replace(self, run: EvalRun, new: EvalRun) -> EvalRun:
        try:
            await self._ddb.put_item(**self._put_run(run, new))
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            raise EvalChanged(f"evaluation run {run.eval_id} changed since it was read") from exc
        return new

    def _places(self, delta: int, cap: int | None = None) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self._runs, "Key": {"eval_id": serialize(PLACES_KEY)},
            "UpdateExpression": "ADD places :d", "ExpressionAttributeValues": values({":d": delta})}
        if cap is not None:
            update["ConditionExpression"] = "attribute_not_exists(places) OR places < :cap"
            update["ExpressionAttributeValues"] = values({":d": delta, ":cap": cap})
        return update

    async def claim(self, run: EvalRun, new: EvalRun, *, cap: int) -> EvalRun:
        try:
            await self._ddb.transact_write_items(TransactItems=[
                {"Put": self._put_run(run, new)}, {"Update": self._places(1, cap)}])
        except ClientError as exc:
            why = Cancellation.of(exc, "claim an attempt")
            if why.failed(0) or why.conflicted:
                raise EvalChanged(f"evaluation run {run.eval_id} changed since it was read") from exc
            raise EvalCapReached(f"the platform runs {cap} evaluation attempts at most") from exc
        return new

    async def places_taken(self) -> int:
        resp = await self._ddb.get_item(TableName=self._runs, Key={"eval_id": serialize(PLACES_KEY)},
                                        ConsistentRead=True)
        return int(from_item(resp.get("Item", {})).get("places", 0))

    async def count(self, run: EvalRun, new: EvalRun, record: AttemptRecord) -> EvalRun:
        item = {"eval_id": run.eval_id, "sk": attempt_sk(record.case_index, record.attempt),
                **record.model_dump(mode="json")}
        try:
            await self._ddb.transact_write_items(TransactItems=[
                {"Put": {"TableName": self._items, "Item": to_item(item),
                         "ConditionExpression": "attribute_not_exists(sk)"}},
                {"Put": self._put_run(run, new)}, {"Update": self._places(-1)}])
        except ClientError as exc:
            if Cancellation.of(exc, "count an attempt").failed(0):
                raise AttemptAlreadyCounted(f"attempt {record.attempt} of {record.case_id} was counted") from exc
            raise EvalChanged(f"evaluation run {run.eval_id} changed since it was read") from exc
        return new

    async def cases(self, eval_id: str, *, start: int = 0, limit: int = 100) -> list[CaseRow]:
        resp = await self._ddb.query(
            TableName=self._items, KeyConditionExpression="eval_id = :e AND sk BETWEEN :a AND :b",
            ExpressionAttributeValues=values({":e": eval_id, ":a": case_sk(start), ":b": "c#~"}), Limit=limit,
            ConsistentRead=True)
        return [CaseRow.model_validate(from_item(i)) for i in resp.get("Items", [])]

    async def attempts(self, eval_id: str, *, first: int = 0, last: int | None = None) -> list[AttemptRecord]:
        upper = f"a#{last:06d}#~" if last is not None else "a#~"
        args: dict[str, Any] = {
            "TableName": self._items, "KeyConditionExpression": "eval_id = :e AND sk BETWEEN :a AND :b",
            "ExpressionAttributeValues": values({":e": eval_id, ":a": f"a#{first:06d}", ":b": upper}),
            "ConsistentRead": True}
        found: list[AttemptRecord] = []
        while True:
            resp = await self._ddb.query(**args)
            found += [AttemptRecord.model_validate(from_item(i)) for i in resp.get("Items", [])]
            if not resp.get("LastEvaluatedKey"):
                return found
            args["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

"""The pieces every steering write shares: a check on the task's status and an audit event, in one transaction."""

from __future__ import annotations

from typing import Any, Collection, Mapping

from botocore.exceptions import ClientError

from shared.aws.dynamo import from_item, serialize, to_item, values
from shared.aws.errors import StoreUnavailable
from shared.aws.guarded import GuardedClient
from shared.observability.redaction import redact_value
from shared.steering.errors import TaskNotSteerable
from shared.tasks.dynamo_writes import Cancellation, event_put
from shared.tasks.models import TaskEvent
from shared.tasks.states import TaskStatus
from shared.topology.names import ResourceNames

RUNNING = (TaskStatus.RUNNING,)


class SteeringTables:
    """The tables a steering write touches, and how it checks the task and appends the event."""

    def __init__(self, ddb: Any, names: ResourceNames):
        self.ddb = GuardedClient(ddb)
        self.tasks = names.tasks_table
        self.events = names.task_events_table
        self.nudges = names.nudges_table
        self.approvals = names.approvals_table

    def task_in(self, task_id: str, statuses: Collection[TaskStatus]) -> dict:
        """A ConditionCheck: the task is in one of `statuses` (nothing is written once it left them)."""
        placeholders = {f":s{i}": s.value for i, s in enumerate(statuses)}
        return {"ConditionCheck": {
            "TableName": self.tasks, "Key": {"task_id": serialize(task_id)},
            "ConditionExpression": f"#st IN ({', '.join(placeholders)})",
            "ExpressionAttributeNames": {"#st": "status"}, "ExpressionAttributeValues": values(placeholders),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }}

    def event(self, task_id: str, event_type: str, metadata: Mapping[str, Any]) -> dict:
        """The Put of a new audit event, its metadata redacted."""
        return event_put(self.events, TaskEvent(task_id=task_id, event_type=event_type,
                                                metadata=redact_value(dict(metadata))))

    async def transact(self, items: list[dict], doing: str) -> Cancellation | None:
        """One transaction (the task check first): None once written, else why it was cancelled."""
        try:
            await self.ddb.transact_write_items(TransactItems=items)
        except ClientError as exc:
            return Cancellation.of(exc, doing)
        return None

    async def put_while_running(self, task_id: str, table: str, key: str, item: Mapping[str, Any],
                                event_type: str, metadata: Mapping[str, Any]) -> None:
        """Write a new row and its audit event in one transaction that holds only while the task is RUNNING;
        TaskNotSteerable (with the status found) otherwise."""
        why = await self.transact([self.task_in(task_id, RUNNING),
                                   {"Put": {"TableName": table, "Item": to_item(item),
                                            "ConditionExpression": f"attribute_not_exists({key})"}},
                                   self.event(task_id, event_type, metadata)], f"put {table}")
        if why is not None and why.conflicted:
            raise StoreUnavailable(f"put {table}: cancelled by a concurrent write")
        if why is not None:
            raise TaskNotSteerable(task_id, await self.status_seen(task_id, RUNNING, why))

    async def status_seen(self, task_id: str, statuses: Collection[TaskStatus], why: Cancellation) -> TaskStatus | None:
        """The task's status when `why` cancelled a write checked against `statuses`: returned with its failed
        check, known when the check held on a single status, read otherwise."""
        if why.failed(0):
            return why.found.status if why.found else None
        if len(statuses) == 1 and not why.conflicted:  # the check held, on the one status it allows
            return next(iter(statuses))
        return await self.task_status(task_id)

    async def task_status(self, task_id: str) -> TaskStatus | None:
        resp = await self.ddb.get_item(TableName=self.tasks, Key={"task_id": serialize(task_id)},
                                       ConsistentRead=True, ProjectionExpression="#st",
                                       ExpressionAttributeNames={"#st": "status"})
        item = from_item(resp.get("Item") or {})
        return TaskStatus(item["status"]) if "status" in item else None

"""The pieces every steering write shares: a check on the task's status and an audit event, in one transaction."""

from __future__ import annotations

from typing import Any, Collection, Mapping

from botocore.exceptions import ClientError

from shared.aws.dynamo import from_item, serialize, to_item, values
from shared.observability.redaction import redact_value
from shared.steering.errors import TaskNotSteerable
from shared.tasks.models import TaskEvent
from shared.tasks.states import TaskStatus
from shared.topology.names import ResourceNames


class SteeringTables:
    """The tables a steering write touches, and how it checks the task and appends the event."""

    def __init__(self, ddb: Any, names: ResourceNames):
        self.ddb = ddb
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
        }}

    def event(self, task_id: str, event_type: str, metadata: Mapping[str, Any]) -> tuple[dict, TaskEvent]:
        """A Put of a new audit event (redacted), and the event itself."""
        event = TaskEvent(task_id=task_id, event_type=event_type, metadata=redact_value(dict(metadata)))
        return {"Put": {"TableName": self.events, "Item": to_item(event.model_dump()),
                        "ConditionExpression": "attribute_not_exists(event_id)"}}, event

    async def put_while_running(self, task_id: str, table: str, key: str, item: Mapping[str, Any],
                                event_type: str, metadata: Mapping[str, Any]) -> None:
        """Write a new row and its audit event in one transaction that holds only while the task is RUNNING;
        TaskNotSteerable (with the status found) otherwise."""
        put_event, _ = self.event(task_id, event_type, metadata)
        items = [self.task_in(task_id, (TaskStatus.RUNNING,)),
                 {"Put": {"TableName": table, "Item": to_item(item),
                          "ConditionExpression": f"attribute_not_exists({key})"}},
                 put_event]
        try:
            await self.ddb.transact_write_items(TransactItems=items)
        except ClientError as exc:
            reasons = cancelled_reasons(exc)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise TaskNotSteerable(task_id, await self.task_status(task_id)) from exc
            raise

    async def task_status(self, task_id: str) -> TaskStatus | None:
        resp = await self.ddb.get_item(TableName=self.tasks, Key={"task_id": serialize(task_id)},
                                       ConsistentRead=True, ProjectionExpression="#st",
                                       ExpressionAttributeNames={"#st": "status"})
        item = from_item(resp.get("Item") or {})
        return TaskStatus(item["status"]) if "status" in item else None


def cancelled_reasons(exc: ClientError) -> list[str] | None:
    """Each item's failure code of a cancelled transaction; None for any other error."""
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return None
    return [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]

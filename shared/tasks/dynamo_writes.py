"""The TransactWriteItems entries of a planned transition, and how to read a cancelled transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from shared.aws.dynamo import from_item, serialize, to_item, values
from shared.aws.errors import StoreUnavailable
from shared.aws.guarded import error_code
from shared.tasks.models import Task, TaskEvent
from shared.tasks.plan import TransitionPlan


@dataclass(frozen=True)
class Cancellation:
    """Why DynamoDB cancelled a transaction: one reason code per item, and each failed item as it was
    (ALL_OLD); every transaction puts its task check or update first."""

    reasons: list[str]
    items: list[dict | None]

    @classmethod
    def of(cls, exc: ClientError, doing: str) -> "Cancellation":
        """The cancellation `exc` reports; StoreUnavailable (from `exc`) for any other failure of `doing`."""
        if error_code(exc) != "TransactionCanceledException":
            raise StoreUnavailable(f"{doing}: {error_code(exc)}") from exc
        raw = exc.response.get("CancellationReasons", [])
        return cls([r.get("Code") or "None" for r in raw],
                   [from_item(r["Item"]) if r.get("Item") else None for r in raw])

    def failed(self, index: int) -> bool:
        return self.reasons[index:index + 1] == ["ConditionalCheckFailed"]

    def item(self, index: int) -> dict | None:
        """The item whose condition failed, as it was; None if it held (or the item does not exist)."""
        return self.items[index] if self.failed(index) and index < len(self.items) else None

    @property
    def found(self) -> Task | None:
        """The task as it was, if its condition (the first item) failed."""
        item = self.item(0)
        return Task.model_validate(item) if item else None

    @property
    def conflicted(self) -> bool:
        return "TransactionConflict" in self.reasons


def task_update(table: str, plan: TransitionPlan) -> dict:
    """The conditional update of the task row: on the status and slot as read; returns the row if it moved."""
    current, record = plan.current, plan.new.to_record()
    names = {"#status": "status", "#held": "slot_held"}
    vals: dict[str, Any] = {":cur": current.status.value, ":held": current.slot_held}
    sets, removes = [], []
    fields = plan.fields | {"status_created"}
    if current.outbox is not None and "outbox" in fields:
        # Add entries one by one: a flush removing sent ones meanwhile must not see them come back.
        fields = fields - {"outbox"}
        names["#ob"] = "outbox"
        for i, (entry_id, entry) in enumerate(plan.announced.items()):
            names[f"#e{i}"] = entry_id
            sets.append(f"#ob.#e{i} = :e{i}")
            vals[f":e{i}"] = entry.model_dump(mode="json")
    for i, field in enumerate(sorted(fields)):
        names[f"#f{i}"] = field
        if record.get(field) is None:
            removes.append(f"#f{i}")
        else:
            sets.append(f"#f{i} = :v{i}")
            vals[f":v{i}"] = record[field]
    expr = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    return {"Update": {
        "TableName": table,
        "Key": {"task_id": serialize(current.task_id)},
        "UpdateExpression": expr,
        "ConditionExpression": "#status = :cur AND #held = :held",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values(vals),
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }}


def event_put(table: str, event: TaskEvent) -> dict:
    return {"Put": {"TableName": table, "Item": to_item(event.model_dump()),
                    "ConditionExpression": "attribute_not_exists(event_id)"}}


def acquire(table: str, user_id: str, max_active: int, now: str) -> dict:
    return {"Update": {
        "TableName": table,
        "Key": {"user_id": serialize(user_id)},
        "UpdateExpression": "ADD active_count :one SET updated_at = :now",
        "ConditionExpression": "attribute_not_exists(active_count) OR active_count < :max",
        "ExpressionAttributeValues": values({":one": 1, ":max": max_active, ":now": now}),
    }}


def release(table: str, user_id: str, now: str) -> dict:
    return {"Update": {
        "TableName": table,
        "Key": {"user_id": serialize(user_id)},
        "UpdateExpression": "ADD active_count :minus SET updated_at = :now",
        "ConditionExpression": "active_count > :zero",
        "ExpressionAttributeValues": values({":minus": -1, ":zero": 0, ":now": now}),
    }}

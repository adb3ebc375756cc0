"""The Approvals table: a gated command waits for its owner's decision, taken once."""

from __future__ import annotations

from typing import Protocol

from shared.aws.dynamo import from_item, serialize, values
from shared.clock import utcnow
from shared.steering.display import clipped
from shared.steering.errors import DecisionRefused
from shared.steering.models import Approval, Decision
from shared.steering.transactions import SteeringTables
from shared.tasks.dynamo_writes import Cancellation

PENDING_INDEX = "PendingIndex"


class ApprovalStore(Protocol):
    async def request(self, approval: Approval) -> Approval:
        """Store a pending request and its approval.requested event while the task is RUNNING."""

    async def get(self, task_id: str, approval_id: str) -> Approval | None: ...

    async def decide(self, approval: Approval, decision: Decision, *, by: str, reason: str | None = None) -> Approval:
        """Decide a pending request once, while its task is in `approval.decidable_while`: approve/deny before it
        expires, expire after; DecisionRefused (with what was found) otherwise."""

    async def pending_for_user(self, user_id: str, *, limit: int = 100) -> list[Approval]:
        """A user's undecided requests, oldest first."""

    async def pending_for_task(self, task_id: str) -> list[Approval]: ...


class DynamoApprovalStore:
    """ApprovalStore on DynamoDB; every write is one transaction with the task check and the event."""

    def __init__(self, tables: SteeringTables):
        self._t = tables

    async def request(self, approval: Approval) -> Approval:
        await self._t.put_while_running(
            approval.task_id, self._t.approvals, "approval_id", approval.model_dump(), "approval.requested",
            {"approval_id": approval.approval_id, "kind": approval.kind, "rule": approval.rule,
             "command": clipped(approval.command),
             "reason": approval.reason[:2000], "expires_at": approval.expires_at})
        return approval

    async def get(self, task_id: str, approval_id: str) -> Approval | None:
        resp = await self._t.ddb.get_item(TableName=self._t.approvals, ConsistentRead=True,
                                          Key={"task_id": serialize(task_id), "approval_id": serialize(approval_id)})
        item = resp.get("Item")
        return Approval.model_validate(from_item(item)) if item else None

    async def decide(self, approval: Approval, decision: Decision, *, by: str, reason: str | None = None) -> Approval:
        now = utcnow()
        # Approve and deny only before the deadline, expiry only after it: whichever comes first wins.
        deadline = "expires_at <= :now" if decision == "expired" else "expires_at > :now"
        changes = {":d": decision, ":p": "pending", ":now": now, ":by": by}
        update = "SET #st = :d, decided_at = :now, decided_by = :by REMOVE pending_user"
        if reason:
            changes[":why"] = reason
            update = "SET #st = :d, decided_at = :now, decided_by = :by, decision_reason = :why REMOVE pending_user"
        event = self._t.event(approval.task_id, f"approval.{decision}", {
            "approval_id": approval.approval_id, "rule": approval.rule, "by": by, "reason": reason})
        why = await self._t.transact([
            self._t.task_in(approval.task_id, approval.decidable_while),
            {"Update": {"TableName": self._t.approvals, "Key": self._key(approval),
                        "UpdateExpression": update, "ConditionExpression": f"#st = :p AND {deadline}",
                        "ExpressionAttributeNames": {"#st": "status"},
                        "ExpressionAttributeValues": values(changes),
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            event], "decide")
        if why is not None:
            raise DecisionRefused(approval.approval_id, await self._as_found(approval, why),
                                  await self._t.status_seen(approval.task_id, approval.decidable_while, why))
        return approval.model_copy(update={"status": decision, "decided_at": now, "decided_by": by,
                                           "decision_reason": reason, "pending_user": None})

    async def _as_found(self, approval: Approval, why: Cancellation) -> Approval | None:
        """The request as the cancelled decision found it: returned with its failed condition, as given when
        the condition held (pending, in time), read again after a concurrent write."""
        if why.failed(1):
            item = why.item(1)
            return Approval.model_validate(item) if item else None
        if why.conflicted:
            return await self.get(approval.task_id, approval.approval_id)
        return approval

    @staticmethod
    def _key(approval: Approval) -> dict:
        return {"task_id": serialize(approval.task_id), "approval_id": serialize(approval.approval_id)}

    async def pending_for_user(self, user_id: str, *, limit: int = 100) -> list[Approval]:
        resp = await self._t.ddb.query(TableName=self._t.approvals, IndexName=PENDING_INDEX, Limit=limit,
                                       KeyConditionExpression="pending_user = :u",
                                       ExpressionAttributeValues=values({":u": user_id}), ScanIndexForward=True)
        return [Approval.model_validate(from_item(i)) for i in resp.get("Items", [])]

    async def pending_for_task(self, task_id: str) -> list[Approval]:
        resp = await self._t.ddb.query(
            TableName=self._t.approvals, KeyConditionExpression="task_id = :t", FilterExpression="#st = :p",
            ExpressionAttributeNames={"#st": "status"}, ConsistentRead=True,
            ExpressionAttributeValues=values({":t": task_id, ":p": "pending"}))
        return [Approval.model_validate(from_item(i)) for i in resp.get("Items", [])]

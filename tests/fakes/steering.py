"""In-memory NudgeStore and ApprovalStore with the DynamoDB stores' conditions, over an InMemoryTaskStore."""

from __future__ import annotations

from shared.clock import utcnow
from shared.steering.display import clipped
from shared.steering.errors import DecisionRefused, TaskNotSteerable
from shared.steering.models import Approval, Decision, Nudge
from shared.tasks.states import TaskStatus
from tests.fakes.tasks import InMemoryTaskStore


def _status(tasks: InMemoryTaskStore, task_id: str) -> TaskStatus | None:
    task = tasks.tasks.get(task_id)
    return task.status if task else None


class InMemoryNudges:
    def __init__(self, tasks: InMemoryTaskStore):
        self._tasks = tasks
        self.rows: dict[str, Nudge] = {}

    async def add(self, nudge: Nudge) -> Nudge:
        if _status(self._tasks, nudge.task_id) != TaskStatus.RUNNING or nudge.nudge_id in self.rows:
            raise TaskNotSteerable(nudge.task_id, _status(self._tasks, nudge.task_id))
        self.rows[nudge.nudge_id] = nudge
        await self._tasks.append_event(nudge.task_id, "nudge.received",
                                       {"nudge_id": nudge.nudge_id, "message": nudge.message})
        return nudge

    async def pending(self, task_id: str) -> list[Nudge]:
        return sorted((n for n in self.rows.values() if n.task_id == task_id and n.status == "pending"),
                      key=lambda n: n.nudge_id)

    async def deliver(self, nudge: Nudge) -> bool:
        current = self.rows.get(nudge.nudge_id)
        if current is None or current.status != "pending" or _status(self._tasks, nudge.task_id) != TaskStatus.RUNNING:
            return False
        self.rows[nudge.nudge_id] = current.model_copy(update={"status": "delivered", "delivered_at": utcnow()})
        await self._tasks.append_event(nudge.task_id, "nudge.delivered", {"nudge_id": nudge.nudge_id})
        return True


class InMemoryApprovals:
    def __init__(self, tasks: InMemoryTaskStore):
        self._tasks = tasks
        self.rows: dict[str, Approval] = {}

    async def request(self, approval: Approval) -> Approval:
        if _status(self._tasks, approval.task_id) != TaskStatus.RUNNING or approval.approval_id in self.rows:
            raise TaskNotSteerable(approval.task_id, _status(self._tasks, approval.task_id))
        self.rows[approval.approval_id] = approval
        await self._tasks.append_event(approval.task_id, "approval.requested",
                                       {"approval_id": approval.approval_id, "kind": approval.kind,
                                        "rule": approval.rule, "command": clipped(approval.command),
                                        "reason": approval.reason})
        return approval

    async def get(self, task_id: str, approval_id: str) -> Approval | None:
        found = self.rows.get(approval_id)
        return found if found and found.task_id == task_id else None

    async def decide(self, approval: Approval, decision: Decision, *, by: str, reason: str | None = None) -> Approval:
        current, now = self.rows.get(approval.approval_id), utcnow()
        status = _status(self._tasks, approval.task_id)
        in_time = current is not None and ((current.expires_at <= now) == (decision == "expired"))
        if current is None or current.status != "pending" or not in_time \
                or status not in current.decidable_while:
            raise DecisionRefused(approval.approval_id, current, status)
        decided = current.model_copy(update={"status": decision, "decided_at": now, "decided_by": by,
                                             "decision_reason": reason, "pending_user": None})
        self.rows[approval.approval_id] = decided
        await self._tasks.append_event(approval.task_id, f"approval.{decision}",
                                       {"approval_id": approval.approval_id, "by": by, "reason": reason})
        return decided

    async def pending_for_user(self, user_id: str, *, limit: int = 100) -> list[Approval]:
        return sorted((a for a in self.rows.values() if a.pending_user == user_id),
                      key=lambda a: a.created_at)[:limit]

    async def pending_for_task(self, task_id: str) -> list[Approval]:
        return [a for a in self.rows.values() if a.task_id == task_id and a.status == "pending"]

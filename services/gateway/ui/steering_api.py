"""The panel's steering adapter over the gateway's own nudge and approval routes (one copy of their rules)."""

from __future__ import annotations

from dataclasses import dataclass

from services.gateway.auth import Principal
from services.gateway.deps import GatewayDeps
from services.gateway.routes import steering as routes
from services.gateway.schemas_steering import DecisionRequest, NudgeRequest
from services.gateway.ui.steering import PendingRequest, Steering
from shared.steering.display import shown_request


@dataclass
class ApiSteering:
    """Nudges and decisions made from the panel go through the same checks as POST /v1/tasks/{id}/…."""

    deps: GatewayDeps

    async def pending(self, user_id: str) -> list[PendingRequest]:
        listed = await routes.list_pending_approvals(Principal(user_id, {}), self.deps)
        repos: dict[str, str] = {}
        found = []
        for a in listed.data:
            if a.task_id not in repos:
                task = await self.deps.tasks.get(a.task_id)
                repos[a.task_id] = task.repo if task else ""
            found.append(PendingRequest(task_id=a.task_id, request_id=a.approval_id, repo=repos[a.task_id],
                                        summary=shown_request(a.kind, a.rule, a.command), requested_at=a.created_at,
                                        kind=a.kind))
        return found

    async def decide(self, user_id: str, task_id: str, request_id: str, *, approve: bool) -> None:
        route = routes.approve_task if approve else routes.deny_task
        await route(task_id, DecisionRequest(approval_id=request_id, reason="decided in the web panel"),
                    Principal(user_id, {}), self.deps)

    async def nudge(self, user_id: str, task_id: str, message: str) -> None:
        await routes.nudge_task(task_id, NudgeRequest(message=message), Principal(user_id, {}), self.deps)


def steering_of(d: GatewayDeps) -> Steering:
    """The steering the panel uses: the one plugged in, else the gateway's own routes."""
    return d.steering or ApiSteering(d)

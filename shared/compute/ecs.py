"""The `ecs` compute strategy: one Fargate task per agent session."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from shared.compute.errors import ComputeStartFailed
from shared.compute.protocol import SessionState

_RETRYABLE_FAILURES = ("RESOURCE", "CAPACITY", "AGENT", "THROTTL")
_STATES = {"PROVISIONING": SessionState.PENDING, "PENDING": SessionState.PENDING,
           "ACTIVATING": SessionState.PENDING, "RUNNING": SessionState.RUNNING,
           "DEACTIVATING": SessionState.RUNNING, "STOPPING": SessionState.RUNNING,
           "DEPROVISIONING": SessionState.STOPPED, "STOPPED": SessionState.STOPPED,
           "DELETED": SessionState.STOPPED}


class EcsTasks:
    """StopTask and DescribeTasks of agent tasks, by task ARN."""

    def __init__(self, ecs: Any, *, cluster: str):
        self._ecs = ecs
        self._cluster = cluster

    async def stop(self, handle: str, *, reason: str) -> None:
        try:
            await self._ecs.stop_task(cluster=self._cluster, task=handle, reason=reason[:255])
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code not in ("InvalidParameterException", "ResourceNotFoundException"):
                raise

    async def describe(self, handle: str) -> SessionState:
        resp = await self._ecs.describe_tasks(cluster=self._cluster, tasks=[handle])
        tasks = resp.get("tasks", [])
        if not tasks:
            return SessionState.UNKNOWN
        return _STATES.get(tasks[0].get("lastStatus", ""), SessionState.UNKNOWN)


class EcsCompute(EcsTasks):
    """RunTask keyed by the task id (clientToken and startedBy), StopTask, DescribeTasks."""

    def __init__(self, ecs: Any, *, cluster: str, task_definition: str, container_name: str,
                 subnets: list[str], security_groups: list[str], assign_public_ip: bool = False):
        super().__init__(ecs, cluster=cluster)
        self._task_definition = task_definition
        self._container = container_name
        self._network = {"awsvpcConfiguration": {
            "subnets": subnets, "securityGroups": security_groups,
            "assignPublicIp": "ENABLED" if assign_public_ip else "DISABLED"}}

    async def _existing(self, task_id: str) -> str | None:
        """A session already started for this task (redelivered start), if any."""
        for status in ("RUNNING", "PENDING"):
            arns = (await self._ecs.list_tasks(cluster=self._cluster, startedBy=task_id,
                                               desiredStatus=status)).get("taskArns", [])
            if arns:
                return arns[0]
        return None

    async def start(self, task_id: str) -> str:
        existing = await self._existing(task_id)
        if existing:
            return existing
        try:
            resp = await self._ecs.run_task(
                cluster=self._cluster, taskDefinition=self._task_definition, launchType="FARGATE", count=1,
                clientToken=task_id, startedBy=task_id, networkConfiguration=self._network,
                overrides={"containerOverrides": [{
                    "name": self._container, "command": ["--task-id", task_id],
                    "environment": [{"name": "BGAGENT_TASK_ID", "value": task_id}]}]},
                tags=[{"key": "bgagent:task_id", "value": task_id}],
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            retryable = code in ("ThrottlingException", "ServerException", "LimitExceededException")
            raise ComputeStartFailed(f"RunTask failed: {code}", retryable=retryable) from exc
        tasks = resp.get("tasks", [])
        if tasks:
            return tasks[0]["taskArn"]
        reasons = [f.get("reason", "unknown") for f in resp.get("failures", [])]
        retryable = any(r.upper().startswith(_RETRYABLE_FAILURES) for r in reasons)
        raise ComputeStartFailed(f"RunTask started nothing: {', '.join(reasons) or 'no reason'}", retryable=retryable)

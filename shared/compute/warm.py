"""The `ecs` strategy's warm mode: sessions handed to idle agent tasks of an ECS service through a FIFO queue.

A session's handle names the task (`warm:<task id>`) for its whole life. Until an agent claims it the session is
PENDING (a message in the queue) and stopping it calls it off, so no agent takes it; once claimed, the claim
names the ECS task, which stop and describe then act on. Handles that are task ARNs (sessions started by
RunTask before the mode changed) are stopped and described directly.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from shared.compute.ecs import EcsTasks
from shared.compute.errors import ComputeStartFailed
from shared.compute.protocol import SessionState
from shared.compute.sessions import SessionClaims

WARM_PREFIX = "warm:"
_RETRYABLE = ("ThrottlingException", "ServiceUnavailable", "InternalError", "RequestThrottled", "KmsThrottled")


class SessionRequest(BaseModel):
    """The body of a sessions-queue message: run this task."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    version: int = 1
    task_id: str


def warm_task_id(handle: str) -> str | None:
    """The task a warm handle names; None for any other handle."""
    return handle[len(WARM_PREFIX):] if handle.startswith(WARM_PREFIX) else None


class WarmEcsCompute:
    """Start: one message per task (deduplicated by task id). Stop and describe: through the task's claim."""

    def __init__(self, sqs: Any, queue_url: str, claims: SessionClaims, tasks: EcsTasks):
        self._sqs = sqs
        self._queue_url = queue_url
        self._claims = claims
        self._tasks = tasks

    async def start(self, task_id: str) -> str:
        # A redelivered start within SQS's 5-minute deduplication window sends nothing; a later one sends a
        # second message, which the claim turns away (the task is claimed or called off by then).
        try:
            await self._sqs.send_message(QueueUrl=self._queue_url,
                                         MessageBody=SessionRequest(task_id=task_id).model_dump_json(),
                                         MessageGroupId=task_id, MessageDeduplicationId=task_id)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise ComputeStartFailed(f"SendMessage failed: {code}", retryable=code in _RETRYABLE) from exc
        return f"{WARM_PREFIX}{task_id}"

    async def stop(self, handle: str, *, reason: str) -> None:
        task_id = warm_task_id(handle)
        if task_id is None:
            await self._tasks.stop(handle, reason=reason)
            return
        claim = await self._claims.call_off(task_id)
        if claim.task_arn:  # an agent took it first: stop that agent's ECS task
            await self._tasks.stop(claim.task_arn, reason=reason)

    async def describe(self, handle: str) -> SessionState:
        task_id = warm_task_id(handle)
        if task_id is None:
            return await self._tasks.describe(handle)
        claim = await self._claims.get(task_id)
        if claim is None:
            return SessionState.PENDING  # waiting in the queue for an idle agent
        if claim.task_arn is None:
            return SessionState.STOPPED  # called off before any agent took it
        return await self._tasks.describe(claim.task_arn)

"""`python -m agent --warm`: an idle agent of the warm service; it takes one task from the sessions queue.

The interpreter and the agent's imports are paid before a task arrives. The agent claims exactly one task
(a conditional write, so two agents never run one task), then runs it as `--task-id` would and exits: every
task still gets a fresh container, and the service starts the next idle one off the task's path.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from httpx import HTTPError
from pydantic import AliasChoices, Field, ValidationError

from agent.ecs_task import EcsTaskEndpoints
from shared.aws.clients import AwsClients
from shared.compute.errors import SessionTaken
from shared.compute.sessions import SessionClaims
from shared.compute.warm import SessionRequest
from shared.observability.logging import configure_logging
from shared.settings import PlatformSettings

log = logging.getLogger(__name__)
_TRANSIENT = (ClientError, BotoCoreError, HTTPError)


class WarmSettings(PlatformSettings):
    """Where the sessions wait, and the endpoints ECS injects into the container."""

    ecs_sessions_queue_url: str
    ecs_sessions_table: str
    # Longer than the reconciler's maximum session (4 h): scale-in never stops a running session.
    warm_protect_minutes: int = Field(300, ge=1, le=2880)
    warm_receive_wait_seconds: int = Field(20, ge=1, le=20)
    warm_retry_seconds: float = Field(2.0, ge=0)
    ecs_metadata_uri: str = Field(validation_alias=AliasChoices("ECS_CONTAINER_METADATA_URI_V4",
                                                                "BGAGENT_ECS_METADATA_URI"))
    ecs_agent_uri: str = Field(validation_alias=AliasChoices("ECS_AGENT_URI", "BGAGENT_ECS_AGENT_URI"))


class OwnTask(Protocol):
    async def arn(self) -> str: ...

    async def protect(self, minutes: int) -> None: ...

    async def release(self) -> None: ...


class SessionTaker:
    """Long-polls the sessions queue until this agent has claimed one task."""

    def __init__(self, sqs: Any, queue_url: str, claims: SessionClaims, own: OwnTask, *, protect_minutes: int,
                 wait_seconds: int = 20, retry_seconds: float = 2.0):
        self._sqs = sqs
        self._queue_url = queue_url
        self._claims = claims
        self._own = own
        self._protect_minutes = protect_minutes
        self._wait_seconds = wait_seconds
        self._retry_seconds = retry_seconds

    async def take_one(self, stopping: asyncio.Event) -> str | None:
        """The task this agent claimed; None once `stopping` is set while it was still idle."""
        arn = await self._own.arn()
        while not stopping.is_set():
            resp = await self._sqs.receive_message(QueueUrl=self._queue_url, MaxNumberOfMessages=1,
                                                   WaitTimeSeconds=self._wait_seconds)
            for message in resp.get("Messages", []):
                try:
                    task_id = await self._take(message, arn, stopping)
                except _TRANSIENT as exc:
                    # Left in the queue: it comes back after its visibility timeout, and dead-letters
                    # after the queue's receive count, should it keep failing.
                    log.warning("could not take a session; it stays queued", extra={"error": str(exc)})
                    await self._release_quietly()
                    await asyncio.sleep(self._retry_seconds)
                    continue
                if task_id is not None:
                    return task_id
        return None

    async def _take(self, message: dict, arn: str, stopping: asyncio.Event) -> str | None:
        receipt = message["ReceiptHandle"]
        if stopping.is_set():  # stopping while idle: hand it straight to another idle agent
            await self._sqs.change_message_visibility(QueueUrl=self._queue_url, ReceiptHandle=receipt,
                                                      VisibilityTimeout=0)
            return None
        try:
            request = SessionRequest.model_validate_json(message["Body"])
        except ValidationError:
            log.error("unreadable session request; the queue's redrive dead-letters it",
                      extra={"message_id": message.get("MessageId")})
            return None
        # Protected before the claim: no scale-in can stop this task between its claim and its run.
        await self._own.protect(self._protect_minutes)
        try:
            await self._claims.claim(request.task_id, arn)
        except SessionTaken as exc:
            log.info("session already %s; message dropped", exc.current.state, extra={"task_id": request.task_id})
            await self._own.release()
            await self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=receipt)
            return None
        try:
            await self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=receipt)
        except _TRANSIENT as exc:  # the claim is what counts: a redelivered copy is turned away by it
            log.warning("claimed, but the message stays queued", extra={"error": str(exc)})
        log.info("claimed a session", extra={"task_id": request.task_id, "task_arn": arn})
        return request.task_id

    async def _release_quietly(self) -> None:
        try:
            await self._own.release()
        except HTTPError as exc:
            log.warning("could not release scale-in protection", extra={"error": str(exc)})


async def _take(settings: WarmSettings) -> str | None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    try:
        async with AwsClients(settings) as aws:
            taker = SessionTaker(await aws.client("sqs"), settings.ecs_sessions_queue_url,
                                 SessionClaims(await aws.client("dynamodb"), settings.ecs_sessions_table),
                                 EcsTaskEndpoints(settings.ecs_metadata_uri, settings.ecs_agent_uri),
                                 protect_minutes=settings.warm_protect_minutes,
                                 wait_seconds=settings.warm_receive_wait_seconds,
                                 retry_seconds=settings.warm_retry_seconds)
            return await taker.take_one(stopping)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def wait_for_task() -> str | None:
    """Block until this idle agent has claimed a task; None if it was stopped while idle."""
    try:
        settings = WarmSettings()  # type: ignore[call-arg]  # required fields come from the environment
    except ValidationError as exc:
        print(f"invalid warm agent settings: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    configure_logging("agent", settings.log_level)
    return asyncio.run(_take(settings))

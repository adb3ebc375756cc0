"""The one SQS consumer loop every worker service runs."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

from shared.events.bus import parse_envelope
from shared.events.errors import MalformedEvent, UnknownEvent
from shared.messaging.errors import PoisonMessage, RetryLater
from shared.messaging.routing import Handler, Routes
from shared.observability.logging import log_context
from shared.observability.metric_names import HANDLER_ERRORS, QUEUE_WAIT_MS
from shared.observability.metrics import MetricsSink, NullMetrics
from shared.observability.tracing import traced
from shared.tasks.errors import TaskNotFound, TransitionConflict
from shared.tasks.states import is_at_or_past

log = logging.getLogger(__name__)

__all__ = ["ConsumerConfig", "Handler", "QueueConsumer", "Routes"]


@dataclass
class ConsumerConfig:
    queue_url: str
    dlq_url: str | None = None
    batch_size: int = 10
    wait_seconds: int = 20
    visibility_seconds: int = 60
    concurrency: int = 16
    max_backoff_seconds: int = 300
    shutdown_grace_seconds: float = 30.0


@dataclass
class ConsumerStats:
    received: int = 0
    acked: int = 0
    retried: int = 0
    dead_lettered: int = 0


class QueueConsumer:
    """Long-polls a queue and runs, per message, the handler its routes have for the event's type:
    ack, retry with backoff, or dead-letter."""

    def __init__(self, sqs: Any, config: ConsumerConfig, routes: Routes, *, service: str,
                 metrics: MetricsSink | None = None):
        self._metrics = metrics or NullMetrics()
        self._sqs = sqs
        self._cfg = config
        self._routes = routes
        self._service = service
        self._stopping = asyncio.Event()
        self._slots = asyncio.Semaphore(config.concurrency)
        self._inflight: set[asyncio.Task] = set()
        self.stats = ConsumerStats()

    def stop(self) -> None:
        """Stop receiving; in-flight messages are finished (SIGTERM handler calls this)."""
        self._stopping.set()

    async def run(self) -> None:
        """Consume until stop() is called, then drain in-flight handlers."""
        log.info("consumer started", extra={"queue_url": self._cfg.queue_url})
        while not self._stopping.is_set():
            # Receive only what a free handler slot can start now: a message that waited for a slot
            # would outlive its visibility unextended and be delivered again.
            claimed = await self._claim_slots()
            if not claimed:
                break
            try:
                messages = await self._receive(claimed)
            except asyncio.CancelledError:
                raise
            except Exception:  # a failed poll must never end the loop
                log.exception("receive failed; backing off")
                messages = []
                await self._sleep(2.0)
            for _ in range(claimed - len(messages)):
                self._slots.release()
            for message in messages:
                task = asyncio.create_task(self._process(message))
                self._inflight.add(task)
                task.add_done_callback(self._done)
        if self._inflight:
            await asyncio.wait(self._inflight, timeout=self._cfg.shutdown_grace_seconds)
        log.info("consumer stopped", extra={"stats": self.stats.__dict__})

    def _done(self, task: asyncio.Task) -> None:
        self._inflight.discard(task)
        self._slots.release()

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass

    async def _claim_slots(self) -> int:
        """Wait for a free handler slot and claim it with any others free now; 0 once stopping."""
        acquire = asyncio.create_task(self._slots.acquire())
        stop = asyncio.create_task(self._stopping.wait())
        await asyncio.wait({acquire, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if self._stopping.is_set():
            acquire.cancel()
            if acquire.done() and not acquire.cancelled():
                self._slots.release()
            return 0
        claimed = 1
        while claimed < self._cfg.batch_size and not self._slots.locked():
            await self._slots.acquire()  # free: returns at once
            claimed += 1
        return claimed

    async def _receive(self, free: int) -> list[dict]:
        poll = asyncio.create_task(self._sqs.receive_message(
            QueueUrl=self._cfg.queue_url,
            MaxNumberOfMessages=free,
            WaitTimeSeconds=self._cfg.wait_seconds,
            VisibilityTimeout=self._cfg.visibility_seconds,
            MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
        ))
        stop = asyncio.create_task(self._stopping.wait())
        done, _ = await asyncio.wait({poll, stop}, return_when=asyncio.FIRST_COMPLETED)
        if poll not in done:
            # Shutting down: drop the poll; anything it received becomes visible again.
            poll.cancel()
            return []
        stop.cancel()
        messages = poll.result().get("Messages", [])
        self.stats.received += len(messages)
        return messages

    async def _process(self, message: dict) -> None:
        receipt = message["ReceiptHandle"]
        attributes = message.get("Attributes", {})
        receives = int(attributes.get("ApproximateReceiveCount", "1"))
        if receives == 1 and attributes.get("SentTimestamp", "").isdigit():
            self._metrics.timing(QUEUE_WAIT_MS, max(0.0, time.time() * 1000 - int(attributes["SentTimestamp"])))
        keeper = asyncio.create_task(self._keep_invisible(receipt))
        try:
            with log_context(service=self._service, message_id=message.get("MessageId"), receive_count=receives):
                outcome = await self._dispatch(message)
        finally:
            keeper.cancel()
        try:
            if outcome == "ack":
                await self._sqs.delete_message(QueueUrl=self._cfg.queue_url, ReceiptHandle=receipt)
                self.stats.acked += 1
            elif outcome == "dead-letter":
                await self._dead_letter(message)
            else:
                delay = outcome if isinstance(outcome, int) else self._backoff(receives)
                await self._sqs.change_message_visibility(
                    QueueUrl=self._cfg.queue_url, ReceiptHandle=receipt, VisibilityTimeout=delay)
                self.stats.retried += 1
        except Exception:  # the message will simply come back; never crash the loop
            log.exception("could not settle message")

    async def _dispatch(self, message: dict) -> str | int:
        try:
            event = parse_envelope(message.get("Body", ""))
        except (MalformedEvent, UnknownEvent) as exc:
            log.error("poison message", extra={"error": str(exc)})
            return "dead-letter"
        handler = self._routes.get(type(event))
        if handler is None:
            log.error("no handler for this event type", extra={"event": type(event).__name__})
            return "dead-letter"
        task_id = getattr(event, "task_id", None)
        with log_context(task_id=task_id, user_id=getattr(event, "user_id", None), event=type(event).__name__,
                         trace_id=getattr(event, "trace_header", None)):
            try:
                async with traced(self._service, getattr(event, "trace_header", None), task_id=task_id,
                                  event=type(event).__name__):
                    await handler(event)
                return "ack"
            except TransitionConflict as exc:
                applied = exc.target is not None and is_at_or_past(exc.current.status, exc.target)
                log.info("transition already applied" if applied else "message dropped: task moved elsewhere",
                         extra={"current": exc.current.status.value, "reason": exc.reason})
                return "ack"
            except TaskNotFound:
                log.warning("message for an unknown task dropped")
                return "ack"
            except PoisonMessage as exc:
                log.error("handler rejected message", extra={"error": str(exc)})
                return "dead-letter"
            except RetryLater as exc:
                log.warning("handler asked to retry", extra={"error": str(exc)})
                return exc.delay if exc.delay is not None else "retry"
            except Exception:
                log.exception("handler failed; message will be retried")
                self._metrics.count(HANDLER_ERRORS, 1, task_id=task_id)
                return "retry"

    def _backoff(self, receives: int) -> int:
        base = min(self._cfg.max_backoff_seconds, 2 ** min(receives, 10))
        return int(base / 2 + random.uniform(0, base / 2))

    async def _keep_invisible(self, receipt: str) -> None:
        """Extend the visibility of a message whose handler runs long."""
        interval = max(1.0, self._cfg.visibility_seconds / 2)
        while True:
            await asyncio.sleep(interval)
            try:
                await self._sqs.change_message_visibility(
                    QueueUrl=self._cfg.queue_url, ReceiptHandle=receipt, VisibilityTimeout=self._cfg.visibility_seconds)
            except Exception:
                log.warning("could not extend visibility", exc_info=True)

    async def _dead_letter(self, message: dict) -> None:
        if self._cfg.dlq_url:
            await self._sqs.send_message(
                QueueUrl=self._cfg.dlq_url, MessageBody=message.get("Body", ""),
                MessageAttributes={"source_queue": {"DataType": "String", "StringValue": self._cfg.queue_url}},
            )
            await self._sqs.delete_message(QueueUrl=self._cfg.queue_url, ReceiptHandle=message["ReceiptHandle"])
        else:  # let the queue's redrive policy move it after its max receives
            await self._sqs.change_message_visibility(
                QueueUrl=self._cfg.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
        self.stats.dead_lettered += 1


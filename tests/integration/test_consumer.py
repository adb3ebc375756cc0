"""The shared SQS consumer loop against the emulator: ack, retry, dead-letter, drain on stop."""

from __future__ import annotations

import asyncio
import json

import pytest

from shared.aws.clients import AwsClients
from shared.events.models import TaskSubmitted
from shared.messaging.consumer import ConsumerConfig, QueueConsumer
from shared.messaging.errors import PoisonMessage
from shared.tasks.errors import TransitionConflict
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus

pytestmark = pytest.mark.integration


def _envelope(detail_type: str, detail: dict) -> str:
    return json.dumps({"version": "0", "id": "x", "source": "bgagent", "detail-type": detail_type,
                       "detail": detail})


async def _run_until(consumer: QueueConsumer, predicate, timeout: float = 15.0) -> None:
    runner = asyncio.create_task(consumer.run())
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    consumer.stop()
    await asyncio.wait_for(runner, 30)


def _depth(stack, url: str) -> int:
    attrs = stack.boto("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(v) for v in attrs["Attributes"].values())


@pytest.fixture
async def sqs(stack):
    async with AwsClients(stack.settings) as clients:
        yield await clients.client("sqs")


def _config(stack, **kw) -> ConsumerConfig:
    url = stack.queue_urls["hydrator"]
    dlq = stack.boto("sqs").get_queue_url(QueueName=stack.names.dlq("hydrator"))["QueueUrl"]
    return ConsumerConfig(queue_url=url, dlq_url=dlq, wait_seconds=1, visibility_seconds=5, **kw)


async def test_handled_messages_are_deleted_and_bad_ones_dead_lettered(stack, sqs):
    cfg = _config(stack)
    seen: list[str] = []

    async def handler(event):
        seen.append(event.task_id)

    for i in range(5):
        await sqs.send_message(QueueUrl=cfg.queue_url, MessageBody=_envelope("TaskSubmitted", {"task_id": f"t{i}"}))
    await sqs.send_message(QueueUrl=cfg.queue_url, MessageBody="not json at all")
    await sqs.send_message(QueueUrl=cfg.queue_url, MessageBody=_envelope("NoSuchThing", {"task_id": "z"}))
    consumer = QueueConsumer(sqs, cfg, {TaskSubmitted: handler}, service="test")
    await _run_until(consumer, lambda: consumer.stats.acked == 5 and consumer.stats.dead_lettered == 2)
    assert sorted(seen) == [f"t{i}" for i in range(5)]
    assert _depth(stack, cfg.queue_url) == 0
    assert _depth(stack, cfg.dlq_url) == 2


async def test_already_applied_transitions_are_acked(stack, sqs):
    cfg = _config(stack)
    task = Task.new(user_id="u", repo="a/b", task_description="x").model_copy(
        update={"status": TaskStatus.RUNNING})

    async def handler(event):
        raise TransitionConflict(task, TaskStatus.HYDRATING, "already moved on")

    await sqs.send_message(QueueUrl=cfg.queue_url, MessageBody=_envelope("TaskSubmitted", {"task_id": "t"}))
    consumer = QueueConsumer(sqs, cfg, {TaskSubmitted: handler}, service="test")
    await _run_until(consumer, lambda: consumer.stats.acked == 1)
    assert _depth(stack, cfg.queue_url) == 0


async def test_failures_are_retried_and_a_handler_can_reject_a_message(stack, sqs):
    cfg = _config(stack, max_backoff_seconds=1)
    attempts: dict[str, int] = {}

    async def handler(event: TaskSubmitted):
        attempts[event.task_id] = attempts.get(event.task_id, 0) + 1
        if event.task_id == "poison":
            raise PoisonMessage("cannot ever work")
        if attempts[event.task_id] < 3:
            raise RuntimeError("transient")

    await sqs.send_message(QueueUrl=cfg.queue_url, MessageBody=_envelope("TaskSubmitted", {"task_id": "flaky"}))
    await sqs.send_message(QueueUrl=cfg.queue_url, MessageBody=_envelope("TaskSubmitted", {"task_id": "poison"}))
    consumer = QueueConsumer(sqs, cfg, {TaskSubmitted: handler}, service="test")
    await _run_until(consumer, lambda: consumer.stats.acked == 1 and consumer.stats.dead_lettered == 1, timeout=30)
    assert attempts == {"flaky": 3, "poison": 1}
    assert consumer.stats.retried == 2
    assert _depth(stack, cfg.dlq_url) == 1


async def test_a_long_handler_keeps_its_message_invisible_and_stop_drains_it(stack, sqs):
    cfg = _config(stack)
    cfg.visibility_seconds = 2
    calls = 0

    async def slow(event):
        nonlocal calls
        calls += 1
        await asyncio.sleep(5)  # longer than the visibility timeout

    await sqs.send_message(QueueUrl=cfg.queue_url, MessageBody=_envelope("TaskSubmitted", {"task_id": "slow"}))
    consumer = QueueConsumer(sqs, cfg, {TaskSubmitted: slow}, service="test")
    runner = asyncio.create_task(consumer.run())
    while consumer.stats.received == 0:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    consumer.stop()  # as on SIGTERM: the in-flight message is finished, not abandoned
    await asyncio.wait_for(runner, 30)
    assert calls == 1 and consumer.stats.acked == 1
    assert _depth(stack, cfg.queue_url) == 0

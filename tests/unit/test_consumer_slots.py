"""The consumer loop receives only what it can start: a message never waits for a slot while invisible."""

import asyncio
import json

from shared.events.models import TaskSubmitted
from shared.messaging.consumer import ConsumerConfig, QueueConsumer
from tests.fakes.sqs import FakeQueue


def _submitted(task_id: str) -> str:
    detail = TaskSubmitted(task_id=task_id, user_id="u").model_dump(mode="json")
    return json.dumps({"source": "bgagent", "detail-type": "TaskSubmitted", "detail": detail})


# Defect 6: with every handler slot busy the loop still received a message, which then waited on the
# semaphore with its visibility running out, and was delivered twice.
async def test_no_message_is_received_while_every_slot_is_busy():
    queue, release, started = FakeQueue(), asyncio.Event(), []

    async def handler(event):
        started.append(event.task_id)
        await release.wait()

    first, second = queue.send(_submitted("t1")), queue.send(_submitted("t2"))
    consumer = QueueConsumer(queue, ConsumerConfig(queue_url="q", batch_size=1, wait_seconds=1, concurrency=1),
                             {TaskSubmitted: handler}, service="test")
    runner = asyncio.create_task(consumer.run())
    while not started:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)  # the loop had every chance to poll again
    assert queue.handed_out == [first]
    release.set()
    while len(queue.deleted) < 2:
        await asyncio.sleep(0.01)
    consumer.stop()
    await asyncio.wait_for(runner, 5)
    assert queue.handed_out == [first, second] and started == ["t1", "t2"]

"""X-Ray: a message's segment continues the trace carried in its event, and a publish carries it on."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from shared.aws.clients import AwsClients
from shared.events.bus import EventBridgePublisher
from shared.events.models import TaskHydrated, TaskSubmitted
from shared.messaging.consumer import ConsumerConfig, QueueConsumer
from shared.observability import tracing

pytestmark = pytest.mark.integration

TRACE = "1-5759e988-bd862e3fe1be46a994272793"


@pytest.fixture
async def daemon():
    """A UDP socket on loopback standing in for the X-Ray daemon."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    port = sock.getsockname()[1]
    assert tracing.configure_tracing("test-service", f"127.0.0.1:{port}", sample_all=True)
    yield sock
    tracing.configure_tracing("test-service", None)
    sock.close()


def _segments(sock) -> list[dict]:
    docs = []
    while True:
        try:
            data = sock.recv(65535).decode()
        except socket.timeout:
            return docs
        docs.append(json.loads(data.split("\n", 1)[1]))


async def test_consumed_message_joins_the_trace_and_propagates_it(stack, daemon):
    async with AwsClients(stack.settings) as clients:
        sqs, events = await clients.client("sqs"), await clients.client("events")
        bus = EventBridgePublisher(events, stack.names.event_bus)
        url = stack.queue_urls["hydrator"]
        incoming = TaskSubmitted(task_id="t1", user_id="u",
                                 trace_header=f"Root={TRACE};Parent=53995c3f42cd8ad8;Sampled=1")
        await sqs.send_message(QueueUrl=url, MessageBody=json.dumps({
            "source": "bgagent", "detail-type": "TaskSubmitted", "detail": incoming.model_dump()}))

        async def handler(event):
            await bus.publish(TaskHydrated(task_id=event.task_id, user_id="u", context_key="k"))

        consumer = QueueConsumer(sqs, ConsumerConfig(queue_url=url, wait_seconds=1), {TaskSubmitted: handler},
                                 service="hydrator")
        runner = asyncio.create_task(consumer.run())
        while consumer.stats.acked < 1:
            await asyncio.sleep(0.05)
        consumer.stop()
        await runner
        out = await sqs.receive_message(QueueUrl=stack.queue_urls["dispatcher"], WaitTimeSeconds=2)
    forwarded = json.loads(out["Messages"][0]["Body"])["detail"]
    assert forwarded["trace_header"].startswith(f"Root={TRACE};")
    segments = _segments(daemon)
    mine = [s for s in segments if s.get("name") == "hydrator"]
    assert mine and mine[0]["trace_id"] == TRACE and mine[0]["annotations"]["task_id"] == "t1"
    assert any(sub.get("name") == "events" for s in mine for sub in s.get("subsegments", []))


def test_tracing_off_without_a_daemon():
    assert tracing.configure_tracing("x", None) is False
    assert tracing.current_trace_header() is None

"""One routing table per service: its HANDLERS, the topology's subscription and the consumer's dispatch agree."""

import asyncio
import json

import pytest

from services.dispatcher.handlers import HANDLERS as DISPATCHER
from services.finalizer.handlers import HANDLERS as FINALIZER
from services.hydrator.handlers import HANDLERS as HYDRATOR
from services.reconciler.handlers import HANDLERS as RECONCILER
from shared.events.models import DETAIL_MODELS, SlotReleased, TaskCompleted, TaskSubmitted
from shared.events.subscriptions import CONSUMES
from shared.messaging.consumer import ConsumerConfig, QueueConsumer
from shared.messaging.routing import routing_table
from shared.topology.definition import SUBSCRIPTIONS, build_topology
from shared.topology.names import ResourceNames
from tests.fakes.sqs import FakeQueue

TABLES = {"hydrator": HYDRATOR, "dispatcher": DISPATCHER, "finalizer": FINALIZER, "reconciler": RECONCILER}


def test_every_service_handles_exactly_what_its_queue_is_subscribed_to():
    assert set(TABLES) == set(CONSUMES) == set(SUBSCRIPTIONS)
    topology = build_topology(ResourceNames("s"))
    for service, table in TABLES.items():
        routed = {(m.source, m.detail_type) for m in table}
        ruled = {(rule.pattern["source"][0], t) for rule in topology.rules if rule.queue_service == service
                 for t in rule.pattern["detail-type"]}
        assert routed == ruled, service
        assert all(DETAIL_MODELS[key] in table for key in routed)


def test_a_table_that_disagrees_with_the_subscription_is_refused():
    async def handler(_self, _event):
        return None

    with pytest.raises(TypeError, match="missing .*SlotReleased"):
        routing_table("hydrator", {TaskSubmitted: handler})
    with pytest.raises(TypeError, match="extra .*TaskCompleted"):
        routing_table("hydrator", {TaskSubmitted: handler, SlotReleased: handler, TaskCompleted: handler})


async def test_the_consumer_dead_letters_an_event_its_service_has_no_handler_for():
    queue, handled = FakeQueue(), []

    async def on_submitted(event):
        handled.append(event)

    detail = SlotReleased(user_id="u").model_dump(mode="json")
    queue.send(json.dumps({"source": "bgagent", "detail-type": "SlotReleased", "detail": detail}))
    consumer = QueueConsumer(queue, ConsumerConfig(queue_url="q", wait_seconds=1), {TaskSubmitted: on_submitted},
                             service="test")
    runner = asyncio.create_task(consumer.run())
    while not consumer.stats.dead_lettered:
        await asyncio.sleep(0.01)
    consumer.stop()
    await asyncio.wait_for(runner, 5)
    assert not handled and not queue.deleted

"""Test wiring, loaded by every platform process whose PYTHONPATH starts here: each SQS message is handled
twice at once, as at-least-once delivery may do. Production code carries no such switch."""

import asyncio

from shared.messaging.consumer import QueueConsumer

_dispatch_once = QueueConsumer._dispatch


async def _dispatch_twice(self, message):
    outcomes = await asyncio.gather(_dispatch_once(self, message), _dispatch_once(self, message))
    return next((o for o in outcomes if o != "ack"), "ack")


QueueConsumer._dispatch = _dispatch_twice

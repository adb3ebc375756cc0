"""Running a worker service: clients, queue, consumer loop and signal handling in one place."""

from __future__ import annotations

import asyncio
import signal
from typing import Any, Awaitable, Callable

from shared.aws.clients import AwsClients
from shared.messaging.consumer import ConsumerConfig, Handler, QueueConsumer
from shared.observability.logging import configure_logging
from shared.observability.metrics import EmfMetrics
from shared.observability.tracing import configure_tracing
from shared.settings import WorkerSettings

BuildHandler = Callable[[AwsClients], Awaitable[Handler]]


async def serve_queue(service: str, settings: WorkerSettings, build_handler: BuildHandler) -> QueueConsumer:
    """Consume the service's queue until SIGTERM or SIGINT, then drain and close."""
    configure_logging(service, settings.log_level)
    configure_tracing(service, settings.xray_daemon_address)
    async with AwsClients(settings) as clients:
        sqs = await clients.client("sqs")
        names = settings.names
        queue_url = (await sqs.get_queue_url(QueueName=names.queue(service)))["QueueUrl"]
        dlq_url = (await sqs.get_queue_url(QueueName=names.dlq(service)))["QueueUrl"]
        consumer = QueueConsumer(
            sqs,
            ConsumerConfig(
                queue_url=queue_url, dlq_url=dlq_url, batch_size=settings.consumer_batch_size,
                wait_seconds=settings.consumer_wait_seconds, visibility_seconds=settings.consumer_visibility_seconds,
                concurrency=settings.consumer_concurrency,
                duplicate_delivery=settings.consumer_duplicate_delivery,
            ),
            await build_handler(clients),
            service=service,
            metrics=EmfMetrics(service),
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, consumer.stop)
        await consumer.run()
        return consumer


def run_service(service: str, settings: WorkerSettings, build: Callable[[Any, AwsClients], Awaitable[Any]]) -> None:
    """A worker's whole `__main__`: build its handler object with `build(settings, clients)` and serve."""

    async def build_handler(clients: AwsClients) -> Handler:
        return (await build(settings, clients)).handle

    asyncio.run(serve_queue(service, settings, build_handler))

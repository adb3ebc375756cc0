"""Running a worker service: clients, queue, consumer loop and signal handling in one place."""

from __future__ import annotations

import asyncio
import signal
from typing import Any, Awaitable, Callable, Mapping

from shared.aws.clients import AwsClients
from shared.messaging.consumer import ConsumerConfig, QueueConsumer
from shared.messaging.routing import Method, Routes, bind
from shared.observability.logging import configure_logging
from shared.observability.metrics import EmfMetrics
from shared.observability.tracing import configure_tracing
from shared.settings import WorkerSettings

BuildRoutes = Callable[[AwsClients], Awaitable[Routes]]


async def serve_queue(service: str, settings: WorkerSettings, build_routes: BuildRoutes) -> QueueConsumer:
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
            ),
            await build_routes(clients),
            service=service,
            metrics=EmfMetrics(service),
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, consumer.stop)
        await consumer.run()
        return consumer


def run_service(service: str, settings: WorkerSettings, build: Callable[[Any, AwsClients], Awaitable[Any]],
                handlers: Mapping[Any, Method]) -> None:
    """A worker's whole `__main__`: build its object with `build(settings, clients)`, bind its HANDLERS, serve."""

    async def build_routes(clients: AwsClients) -> Routes:
        return bind(handlers, await build(settings, clients))

    asyncio.run(serve_queue(service, settings, build_routes))

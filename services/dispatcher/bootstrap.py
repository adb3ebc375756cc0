"""The dispatcher's composition root."""

from __future__ import annotations

import os

from services.dispatcher.handlers import Dispatcher
from services.dispatcher.settings import DispatcherSettings
from shared.aws.clients import AwsClients
from shared.compute.process import ProcessCompute
from shared.events.bus import EventBridgePublisher
from shared.tasks.dynamo_store import DynamoTaskStore


def build_compute(settings: DispatcherSettings, agent_env: dict[str, str]):
    if settings.compute_type == "process":
        return ProcessCompute(settings.runtime_dir, agent_env)
    raise NotImplementedError("the ecs compute strategy is not built yet")


async def build_dispatcher(settings: DispatcherSettings, clients: AwsClients, agent_env: dict[str, str]) -> Dispatcher:
    return Dispatcher(
        store=DynamoTaskStore(await clients.client("dynamodb"), settings.names),
        compute=build_compute(settings, agent_env),
        bus=EventBridgePublisher(await clients.client("events"), settings.names.event_bus),
    )


def agent_environment() -> dict[str, str]:
    """What a local agent process inherits: the dispatcher's own environment (embedded stack only)."""
    return dict(os.environ)

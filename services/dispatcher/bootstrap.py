"""The dispatcher's composition root."""

from __future__ import annotations

import os

from services.dispatcher.handlers import Dispatcher
from services.dispatcher.settings import DispatcherSettings
from shared.aws.clients import AwsClients
from shared.compute.factory import build_compute
from shared.events.bus import EventBridgePublisher
from shared.observability.metrics import EmfMetrics
from shared.tasks.dynamo_store import DynamoTaskStore


async def build_dispatcher(settings: DispatcherSettings, clients: AwsClients, agent_env: dict[str, str]) -> Dispatcher:
    return Dispatcher(
        store=DynamoTaskStore(await clients.client("dynamodb"), settings.names),
        compute=await build_compute(settings, clients, agent_env, starts_sessions=True),
        bus=EventBridgePublisher(await clients.client("events"), settings.names.event_bus),
        metrics=EmfMetrics("dispatcher"),
    )


def agent_environment() -> dict[str, str]:
    """What a local agent process inherits: the dispatcher's environment, with the agent's AWS profile if any."""
    env = dict(os.environ)
    if env.get("BGAGENT_AGENT_AWS_PROFILE"):  # an IAM-enforcing embedded stack: the agent acts as its own role
        env["AWS_PROFILE"] = env["BGAGENT_AGENT_AWS_PROFILE"]
        env["AWS_SHARED_CREDENTIALS_FILE"] = env.pop("BGAGENT_AGENT_AWS_CREDENTIALS_FILE", "")
    return env

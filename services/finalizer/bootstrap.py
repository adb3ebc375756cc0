"""The finalizer's composition root."""

from __future__ import annotations

from services.finalizer.handlers import Finalizer
from services.finalizer.settings import FinalizerSettings
from shared.aws.clients import AwsClients
from shared.compute.sessions import SessionClaims
from shared.events.bus import EventBridgePublisher
from shared.githost.factory import build_git_host
from shared.memory.store import DynamoMemoryStore
from shared.observability.metrics import EmfMetrics
from shared.observability.redaction import register_secret
from shared.pull_outcomes.store import DynamoPullOutcomeStore
from shared.tasks.dynamo_store import DynamoTaskStore


async def build_finalizer(settings: FinalizerSettings, clients: AwsClients) -> Finalizer:
    register_secret(settings.github_token)
    ddb = await clients.client("dynamodb")
    names = settings.names
    return Finalizer(
        store=DynamoTaskStore(ddb, settings.names),
        memory=DynamoMemoryStore(ddb, settings.names.memory_table),
        git=build_git_host(settings, ddb, names),
        bus=EventBridgePublisher(await clients.client("events"), settings.names.event_bus),
        metrics=EmfMetrics("finalizer"),
        # Read only for warm agents' ECS events, which reach this stack's rule in warm mode alone.
        claims=SessionClaims(ddb, names.sessions_table),
        outcomes=DynamoPullOutcomeStore(ddb, names.pull_outcomes_table),
    )

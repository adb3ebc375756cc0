"""The reconciler's composition root."""

from __future__ import annotations

import os

from services.reconciler.handlers import Reconciler
from services.reconciler.repairs import StuckTaskRepairs
from services.reconciler.settings import ReconcilerSettings
from shared.aws.clients import AwsClients
from shared.compute.factory import build_compute
from shared.events.bus import EventBridgePublisher
from shared.observability.metrics import EmfMetrics
from shared.tasks.dynamo_store import DynamoTaskStore


async def build_reconciler(settings: ReconcilerSettings, clients: AwsClients) -> Reconciler:
    store = DynamoTaskStore(await clients.client("dynamodb"), settings.names)
    metrics = EmfMetrics("reconciler")
    repairs = StuckTaskRepairs(
        store, await build_compute(settings, clients, dict(os.environ)),
        EventBridgePublisher(await clients.client("events"), settings.names.event_bus), metrics, settings)
    return Reconciler(store, metrics, settings, repairs)

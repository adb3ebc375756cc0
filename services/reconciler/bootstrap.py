"""The reconciler's composition root."""

from __future__ import annotations

from services.reconciler.handlers import Reconciler
from services.reconciler.settings import ReconcilerSettings
from shared.aws.clients import AwsClients
from shared.observability.metrics import EmfMetrics
from shared.tasks.dynamo_store import DynamoTaskStore


async def build_reconciler(settings: ReconcilerSettings, clients: AwsClients) -> Reconciler:
    return Reconciler(
        store=DynamoTaskStore(await clients.client("dynamodb"), settings.names),
        metrics=EmfMetrics("reconciler"),
        settings=settings,
    )

"""The hydrator's composition root."""

from __future__ import annotations

from services.hydrator.handlers import Hydrator
from services.hydrator.settings import HydratorSettings
from services.hydrator.url_attachments import AttachmentResolver, UrlFetcher
from shared.attachments.store import S3AttachmentStore
from shared.aws.clients import AwsClients
from shared.evals.case_source import S3CaseSource
from shared.events.bus import EventBridgePublisher
from shared.githost.factory import build_git_host
from shared.hydration.context import S3ContextStore
from shared.llm.endpoints import DynamoEndpointStore
from shared.memory.store import DynamoMemoryStore
from shared.observability.metrics import EmfMetrics
from shared.observability.redaction import register_secret
from shared.repos.store import DynamoRepoStore
from shared.tasks.dynamo_store import DynamoTaskStore


async def build_hydrator(settings: HydratorSettings, clients: AwsClients) -> Hydrator:
    register_secret(settings.github_token)
    ddb = await clients.client("dynamodb")
    names = settings.names
    s3 = await clients.client("s3")
    return Hydrator(
        store=DynamoTaskStore(ddb, names),
        repos=DynamoRepoStore(ddb, names.repos_table),
        git=build_git_host(settings, ddb, names),
        contexts=S3ContextStore(s3, names.artifacts_bucket),
        bus=EventBridgePublisher(await clients.client("events"), names.event_bus),
        settings=settings,
        memory=DynamoMemoryStore(ddb, names.memory_table),
        metrics=EmfMetrics("hydrator"),
        attachments=AttachmentResolver(S3AttachmentStore(s3, names.artifacts_bucket), UrlFetcher()),
        endpoints=DynamoEndpointStore(ddb, names.model_endpoints_table),
        cases=S3CaseSource(s3, names.artifacts_bucket),
    )

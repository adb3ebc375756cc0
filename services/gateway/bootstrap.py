"""The gateway's composition root."""

from __future__ import annotations

from services.gateway.auth import JwtVerifier
from services.gateway.deps import GatewayDeps
from services.gateway.settings import GatewaySettings
from shared.auth.local_issuer import AUDIENCE, LocalIssuer
from shared.aws.clients import AwsClients
from shared.events.bus import EventBridgePublisher
from shared.repos.store import DynamoRepoStore
from shared.tasks.dynamo_store import DynamoTaskStore


async def build_deps(settings: GatewaySettings, clients: AwsClients) -> GatewayDeps:
    issuer = LocalIssuer(settings.local_issuer_dir, settings.base_url) if settings.local_issuer_dir else None
    if issuer:
        verifier = JwtVerifier(f"{settings.base_url}/.well-known/jwks.json", issuer=issuer.issuer_url,
                               audience=AUDIENCE)
    elif settings.jwks_url:
        verifier = JwtVerifier(settings.jwks_url, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
    else:
        raise SystemExit("gateway needs BGAGENT_JWKS_URL (or BGAGENT_LOCAL_ISSUER_DIR for the embedded stack)")
    ddb = await clients.client("dynamodb")
    return GatewayDeps(
        settings=settings,
        tasks=DynamoTaskStore(ddb, settings.names),
        repos=DynamoRepoStore(ddb, settings.names.repos_table),
        bus=EventBridgePublisher(await clients.client("events"), settings.names.event_bus),
        verifier=verifier,
        local_issuer=issuer,
    )

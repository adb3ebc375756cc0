"""The gateway's composition root."""

from __future__ import annotations

import logging
from typing import Awaitable, Callable

from botocore.exceptions import BotoCoreError, ClientError

from services.gateway.adapters.event_reader import DynamoEventReader
from services.gateway.adapters.webhooks import DynamoWebhookStore
from services.gateway.auth import JwtVerifier, LocalJwks, RemoteJwks
from services.gateway.deps import GatewayDeps
from services.gateway.ratelimit import RateLimiter
from services.gateway.settings import GatewaySettings
from services.gateway.streaming import FeedHub, StreamSlots
from services.gateway.ui.sessions import DynamoUiSessions
from shared.attachments.store import S3AttachmentStore
from shared.auth.local_issuer import AUDIENCE, LocalIssuer
from shared.aws.clients import AwsClients
from shared.aws.secrets import CachedSecrets, SecretsManagerStore, SecretStore
from shared.evals.store import DynamoEvalStore
from shared.events.bus import EventBridgePublisher
from shared.githost.factory import build_git_host
from shared.githost.local import LocalGitHost
from shared.llm.endpoints import DynamoEndpointStore
from shared.llm.lifecycle import configured_model_notices
from shared.observability.redaction import register_secret
from shared.pull_outcomes.store import DynamoPullOutcomeStore
from shared.repos.models import RepoConfig
from shared.repos.store import DynamoRepoStore
from shared.schedules.store import DynamoScheduleStore
from shared.steering.approvals import DynamoApprovalStore
from shared.steering.nudges import DynamoNudgeStore
from shared.steering.transactions import SteeringTables
from shared.tasks.dynamo_store import DynamoTaskStore
from shared.tasks.limits import engine_notices

log = logging.getLogger(__name__)


def build_verifier(settings: GatewaySettings, issuer: LocalIssuer | None) -> JwtVerifier:
    """The local issuer's keys on the embedded stack; otherwise the configured issuer's JWKS."""
    if issuer is not None:
        return JwtVerifier(LocalJwks(issuer), issuer=issuer.issuer_url, client_ids={AUDIENCE})
    if not settings.jwt_issuer or not settings.client_ids:
        raise SystemExit("gateway needs BGAGENT_JWT_ISSUER and BGAGENT_JWT_AUDIENCE (the app client id(s)), "
                         "or BGAGENT_LOCAL_ISSUER_DIR for the embedded stack")
    jwks_url = settings.jwks_url or f"{settings.jwt_issuer.rstrip('/')}/.well-known/jwks.json"
    return JwtVerifier(RemoteJwks(jwks_url, min_refresh_seconds=settings.jwks_min_refresh_seconds),
                       issuer=settings.jwt_issuer, client_ids=settings.client_ids)


def github_secret_source(settings: GatewaySettings, secrets: SecretStore) -> Callable[[], Awaitable[str | None]]:
    """Where the GitHub webhook secret comes from: the setting itself, or a Secrets Manager secret."""
    if settings.github_webhook_secret is not None:
        value = settings.github_webhook_secret.get_secret_value()
        register_secret(value)

        async def from_settings() -> str | None:
            return value or None
        return from_settings
    name = settings.github_webhook_secret_name

    async def from_secrets_manager() -> str | None:
        return await secrets.get(name) if name else None
    return from_secrets_manager


async def build_deps(settings: GatewaySettings, clients: AwsClients) -> GatewayDeps:
    issuer = LocalIssuer(settings.local_issuer_dir, settings.base_url) if settings.local_issuer_dir else None
    register_secret(settings.github_token)
    ddb = await clients.client("dynamodb")
    secrets = CachedSecrets(SecretsManagerStore(await clients.client("secretsmanager")),
                            ttl_seconds=settings.webhook_secret_cache_seconds)
    repos = DynamoRepoStore(ddb, settings.names.repos_table)
    return GatewayDeps(
        settings=settings,
        tasks=DynamoTaskStore(ddb, settings.names),
        repos=repos,
        bus=EventBridgePublisher(await clients.client("events"), settings.names.event_bus),
        verifier=build_verifier(settings, issuer),
        webhooks=DynamoWebhookStore(ddb, settings.names.webhooks_table),
        secrets=secrets,
        limiter=RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst),
        schedules=DynamoScheduleStore(ddb, settings.names.schedules_table),
        attachments=S3AttachmentStore(await clients.client("s3"), settings.names.artifacts_bucket),
        feeds=FeedHub(DynamoEventReader(ddb, settings.names.task_events_table),
                      poll_seconds=settings.stream_poll_seconds, settle_seconds=settings.stream_settle_seconds),
        streams=StreamSlots(settings.stream_max_per_user),
        nudges=DynamoNudgeStore(SteeringTables(ddb, settings.names)),
        approvals=DynamoApprovalStore(SteeringTables(ddb, settings.names)),
        nudge_limiter=RateLimiter(settings.nudge_rate_per_minute / 60, settings.nudge_burst),
        pull_outcomes=DynamoPullOutcomeStore(ddb, settings.names.pull_outcomes_table),
        github_secret=github_secret_source(settings, secrets),
        local_issuer=issuer,
        ui_sessions=DynamoUiSessions(ddb, settings.names.idempotency_table),
        recorded_pulls=LocalGitHost(repos, ddb, settings.names.pulls_table),
        git=build_git_host(settings, ddb, settings.names),
        evals=DynamoEvalStore(ddb, settings.names.evals_table, settings.names.eval_items_table),
        model_endpoints=DynamoEndpointStore(ddb, settings.names.model_endpoints_table),
    )


async def _active_repos(d: GatewayDeps, why: str) -> list[RepoConfig]:
    try:
        return [r for r in await d.repos.list() if r.active]
    except (ClientError, BotoCoreError) as exc:  # the check must not keep the API from starting
        log.warning("could not read the onboarded repositories to check their %s: %s", why, exc)
        return []


async def warn_deprecated_models(d: GatewayDeps) -> list[str]:
    """Log (and return) a warning for the default model and each onboarded repo's model that is deprecated."""
    repos = await _active_repos(d, "models")
    notices = configured_model_notices(d.settings.default_model_id,
                                       {r.repo: r.model_id for r in repos if r.model_id})
    for notice in notices:
        log.warning(notice)
    return notices


async def warn_unavailable_engines(d: GatewayDeps) -> list[str]:
    """Log (and return) a warning for the default engine and each onboarded repo's engine this deployment lacks:
    their tasks are refused with ENGINE_UNAVAILABLE until it is installed."""
    repos = {r.repo: r.engine for r in await _active_repos(d, "engines") if r.engine}
    notices = engine_notices(d.settings.default_engine, repos, d.settings.agent_engines)
    for notice in notices:
        log.warning(notice)
    return notices

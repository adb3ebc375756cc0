"""The gateway under test: the real app with in-memory stores (or moto-backed ones), and HTTP clients
whose every response is checked against the app's OpenAPI document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.gateway.app import create_app
from services.gateway.auth import JwtVerifier, LocalJwks
from services.gateway.bootstrap import github_secret_source
from services.gateway.deps import GatewayDeps
from services.gateway.ratelimit import RateLimiter
from services.gateway.settings import GatewaySettings
from services.gateway.streaming import FeedHub, StreamSlots
from shared.auth.local_issuer import AUDIENCE, LocalIssuer
from shared.aws.secrets import CachedSecrets
from shared.repos.models import RepoConfig
from tests.fakes.collaborators import InMemoryAttachments, InMemoryPullOutcomes, InMemoryRepos, RecordingBus
from tests.fakes.evals import InMemoryEndpoints, InMemoryEvals
from tests.fakes.schedules import InMemorySchedules
from tests.fakes.steering import InMemoryApprovals, InMemoryNudges
from tests.fakes.tasks import InMemoryTaskStore
from tests.gateway.fakes import InMemoryEventReader, InMemorySecrets, InMemoryUiSessions, InMemoryWebhooks
from tests.gateway.openapi_check import check_response

BASE_URL = "http://gateway.test"
GITHUB_SECRET = "gh-webhook-secret-for-tests-0123456789"


@dataclass
class Gateway:
    app: Any
    deps: GatewayDeps
    issuer: LocalIssuer
    bus: Any
    raw_secrets: Any

    @property
    def tasks(self):
        return self.deps.tasks

    def token(self, user: str, **claims: object) -> str:
        return self.issuer.mint(user, **claims)

    def client(self, user: str | None = None, *, check: bool = True, **headers: str) -> httpx.AsyncClient:
        """An HTTP client of the app, authenticated as `user` when given."""
        if user:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        hooks = {"response": [self._check]} if check else {}
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app, client=("203.0.113.7", 4711)),
                                 base_url=BASE_URL, headers=headers, event_hooks=hooks, timeout=30)

    async def _check(self, response: httpx.Response) -> None:
        await response.aread()
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else None
        check_response(self.app, response.request.method, response.request.url.path, response.status_code,
                       body, response.headers)


def build_gateway(issuer: LocalIssuer, *, tasks=None, repos=None, webhooks=None, secrets=None, bus=None, schedules=None,
                  pull_outcomes=None, **settings: Any) -> Gateway:
    config = GatewaySettings(**{"stack_name": "gwtest", "rate_limit_per_second": 1000, "rate_limit_burst": 1000,
                                "github_webhook_secret": GITHUB_SECRET, **settings})
    raw_secrets = secrets if secrets is not None else InMemorySecrets()
    cached = CachedSecrets(raw_secrets, ttl_seconds=config.webhook_secret_cache_seconds)
    bus = bus if bus is not None else RecordingBus()
    store = tasks if tasks is not None else InMemoryTaskStore()
    deps = GatewayDeps(
        settings=config,
        tasks=store,
        repos=repos if repos is not None else InMemoryRepos(RepoConfig(repo="acme/app"),
                                                            RepoConfig(repo="acme/gone", status="removed")),
        bus=bus,
        verifier=JwtVerifier(LocalJwks(issuer), issuer=issuer.issuer_url, client_ids={AUDIENCE}),
        webhooks=webhooks if webhooks is not None else InMemoryWebhooks(),
        secrets=cached,
        limiter=RateLimiter(config.rate_limit_per_second, config.rate_limit_burst),
        schedules=schedules if schedules is not None else InMemorySchedules(),
        attachments=InMemoryAttachments(),
        feeds=FeedHub(InMemoryEventReader(store), poll_seconds=config.stream_poll_seconds,
                      settle_seconds=config.stream_settle_seconds),
        streams=StreamSlots(config.stream_max_per_user),
        nudges=InMemoryNudges(store),
        approvals=InMemoryApprovals(store),
        nudge_limiter=RateLimiter(config.nudge_rate_per_minute / 60, config.nudge_burst),
        pull_outcomes=pull_outcomes if pull_outcomes is not None else InMemoryPullOutcomes(),
        github_secret=github_secret_source(config, cached),
        local_issuer=issuer,
        ui_sessions=InMemoryUiSessions(),
        evals=InMemoryEvals(),
        model_endpoints=InMemoryEndpoints(),
    )
    return Gateway(create_app(deps), deps, issuer, bus, raw_secrets)


@pytest.fixture(scope="session")
def issuer(tmp_path_factory) -> LocalIssuer:
    return LocalIssuer(tmp_path_factory.mktemp("issuer"), BASE_URL)


@pytest.fixture
def gw(issuer) -> Gateway:
    return build_gateway(issuer)

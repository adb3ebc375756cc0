"""What the gateway's routes need, built once by the composition root, and the per-request dependencies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Awaitable, Callable, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.gateway.adapters.webhooks import WebhookStore
from services.gateway.auth import JwtVerifier, Principal
from services.gateway.ratelimit import RateLimiter
from services.gateway.refusals import RateLimited
from services.gateway.settings import GatewaySettings
from services.gateway.streaming import FeedHub, StreamSlots
from services.gateway.ui.evals import EvalViews
from services.gateway.ui.sessions import UiSessionStore
from services.gateway.ui.steering import Steering
from shared.attachments.store import AttachmentStore
from shared.auth.local_issuer import LocalIssuer
from shared.aws.secrets import SecretStore
from shared.evals.store import EvalStore
from shared.events.bus import EventPublisher
from shared.githost.models import PullRequest
from shared.githost.protocol import GitHost
from shared.llm.endpoints import EndpointStore
from shared.llm.lifecycle import today_utc
from shared.pull_outcomes.store import PullOutcomeStore
from shared.repos.store import RepoStore
from shared.schedules.store import ScheduleStore
from shared.steering.approvals import ApprovalStore
from shared.steering.nudges import NudgeStore
from shared.tasks.store import TaskStore


async def _no_github_secret() -> str | None:
    return None


class RecordedPulls(Protocol):
    """Pull requests the platform recorded for local repositories."""

    async def find_pull(self, repo: str, head: str) -> PullRequest | None: ...


@dataclass
class GatewayDeps:
    settings: GatewaySettings
    tasks: TaskStore
    repos: RepoStore
    bus: EventPublisher
    verifier: JwtVerifier
    webhooks: WebhookStore
    secrets: SecretStore
    limiter: RateLimiter
    schedules: ScheduleStore
    attachments: AttachmentStore
    feeds: FeedHub
    streams: StreamSlots
    nudges: NudgeStore
    approvals: ApprovalStore
    nudge_limiter: RateLimiter
    # Who opened each bgagent PR: PR tasks from users other than the opener are refused (PR_NOT_YOURS).
    pull_outcomes: PullOutcomeStore
    # The shared secret of GitHub webhooks (from the settings or Secrets Manager); None: not configured.
    github_secret: Callable[[], Awaitable[str | None]] = _no_github_secret
    local_issuer: LocalIssuer | None = None
    # Today's date (UTC), for end-of-life checks; tests move it.
    today: Callable[[], date] = today_utc
    # The web panel's login codes and sessions; None: the panel cannot sign anyone in.
    ui_sessions: UiSessionStore | None = None
    recorded_pulls: RecordedPulls | None = None
    # The panel's nudges and approvals; None: through the gateway's own steering routes (ApiSteering).
    steering: Steering | None = None
    # Reads pull requests at create time and keeps GitHub status comments; None: neither happens.
    git: GitHost | None = None
    # The panel's reads of evaluation runs (the views of GET /v1/evals…); None: its pages say they are not installed.
    eval_views: EvalViews | None = None
    # Evaluation runs (their cases and counted attempts); None: the evals routes answer 503.
    evals: EvalStore | None = None
    # Registered model endpoints; None: none can be registered or named.
    model_endpoints: EndpointStore | None = None


async def deps(request: Request) -> GatewayDeps:
    # async on purpose: FastAPI runs a plain `def` dependency on a worker thread, a hop per request.
    return request.app.state.deps


_bearer = HTTPBearer(auto_error=False, description="a Cognito ID or access token (or the local issuer's)")


async def principal(request: Request,
                    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None) -> Principal:
    """The authenticated caller; 401 in the error envelope otherwise."""
    caller = await request.app.state.deps.verifier.verify(request.headers.get("authorization"))
    request.state.user_id = caller.user_id
    return caller


def enforce_rate_limit(d: GatewayDeps, user_id: str) -> None:
    """429 RATE_LIMIT_EXCEEDED once the user's bucket in this process is empty."""
    wait = d.limiter.take(user_id)
    if wait is not None:
        raise RateLimited("too many requests: slow down and retry later", wait=wait)


async def writer(request: Request, caller: Annotated[Principal, Depends(principal)]) -> Principal:
    """The authenticated caller of a route that creates or changes something, within its rate limit."""
    enforce_rate_limit(request.app.state.deps, caller.user_id)
    return caller


Caller = Annotated[Principal, Depends(principal)]
Writer = Annotated[Principal, Depends(writer)]
Deps = Annotated[GatewayDeps, Depends(deps)]

"""What the gateway's routes need, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from services.gateway.auth import JwtVerifier, Principal
from services.gateway.settings import GatewaySettings
from shared.auth.local_issuer import LocalIssuer
from shared.events.bus import EventPublisher
from shared.repos.store import RepoStore
from shared.tasks.store import TaskStore


@dataclass
class GatewayDeps:
    settings: GatewaySettings
    tasks: TaskStore
    repos: RepoStore
    bus: EventPublisher
    verifier: JwtVerifier
    local_issuer: LocalIssuer | None = None


def deps(request: Request) -> GatewayDeps:
    return request.app.state.deps


async def principal(request: Request) -> Principal:
    """The authenticated caller; 401 in the error envelope otherwise."""
    return await request.app.state.deps.verifier.verify(request.headers.get("authorization"))

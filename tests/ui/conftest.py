"""The gateway with the panel's session store, and browsers-as-HTTP-clients signed in through a login link."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from typing import AsyncIterator

import httpx
import pytest

from tests.gateway.conftest import Gateway, build_gateway, issuer  # noqa: F401  (the session-wide issuer)
from tests.ui.fakes import InMemoryUiSessions


@pytest.fixture
def gw(issuer) -> Gateway:  # noqa: F811
    gateway = build_gateway(issuer)
    gateway.deps.ui_sessions = InMemoryUiSessions()
    return gateway


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


async def login_url(gw: Gateway, user: str) -> str:
    async with gw.client(user) as api:
        resp = await api.post("/v1/ui/login-links")
    assert resp.status_code == 201, resp.text
    return resp.json()["data"]["login_url"]


@asynccontextmanager
async def browser(gw: Gateway, user: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client of the panel, signed in as `user` through a one-time link when given."""
    async with gw.client(check=False) as client:
        if user:
            resp = await client.get(await login_url(gw, user))
            assert resp.status_code == 200, resp.text
        yield client

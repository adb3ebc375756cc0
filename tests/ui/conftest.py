"""The gateway with the panel's session store, and browsers-as-HTTP-clients signed in through a login link."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from typing import AsyncIterator

import httpx

from tests.gateway.conftest import Gateway, gw, issuer  # noqa: F401  (the gateway tests' fixtures)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


async def login_url(gateway: Gateway, user: str) -> str:
    async with gateway.client(user) as api:
        resp = await api.post("/v1/ui/login-links")
    assert resp.status_code == 201, resp.text
    return resp.json()["data"]["login_url"]


@asynccontextmanager
async def browser(gateway: Gateway, user: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client of the panel, signed in as `user` through a one-time link when given."""
    async with gateway.client(check=False) as client:
        if user:
            resp = await client.get(await login_url(gateway, user))
            assert resp.status_code == 200, resp.text
        yield client

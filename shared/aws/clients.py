"""Long-lived aiobotocore clients, opened once per process from settings."""

from __future__ import annotations

import os
from contextlib import AsyncExitStack
from typing import Any

import botocore.session
from aiobotocore.config import AioConfig
from aiobotocore.httpsession import AIOHTTPSession
from aiobotocore.session import get_session

from shared.settings import PlatformSettings
from shared.tls import client_context

# Parsed AWS models and endpoint rules, shared by every AwsClients of this process once preload() ran.
_preloaded: Any = None


def preload(services: tuple[str, ...], region: str) -> None:
    """Parse now what creating these clients needs, once for this process and every process it forks.

    A warm worker's zygote calls it: parsing botocore's JSON is most of a client's creation cost.
    No client made here sends a request or holds a credential.
    """
    global _preloaded
    session = botocore.session.get_session()
    for service in services:
        session.create_client(service, region_name=region, aws_access_key_id="preload",
                              aws_secret_access_key="preload")
    _preloaded = session.get_component("data_loader")


class SharedTrustSession(AIOHTTPSession):
    """aiobotocore's HTTP session, verifying with the process's one TLS context.

    aiobotocore loads the CA bundle into a new context for every client (~50 ms of CPU each); here each
    bundle (the default, or AWS_CA_BUNDLE's file) is loaded once. A client certificate gets its own context.
    """

    def _build_verify_context(self) -> Any:
        verify = self._verify
        if self._cert_file is None and (verify is True or (isinstance(verify, str) and os.path.isfile(verify))):
            return client_context(None if verify is True else verify)
        return super()._build_verify_context()


class AwsClients:
    """Opens the AWS clients a service needs and closes them together."""

    def __init__(self, settings: PlatformSettings, *, max_pool_connections: int = 50):
        self._settings = settings
        self._session = get_session()  # one botocore session: its loaders are costly to build
        if _preloaded is not None:
            self._session.register_component("data_loader", _preloaded)
        self._stack = AsyncExitStack()
        self._clients: dict[str, Any] = {}
        self._config = AioConfig(
            max_pool_connections=max_pool_connections,
            retries={"max_attempts": 5, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
            http_session_cls=SharedTrustSession,
        )

    async def client(self, service: str) -> Any:
        """Return the open client for an AWS service, opening it on first use."""
        if service not in self._clients:
            ctx = self._session.create_client(
                service,
                region_name=self._settings.aws_region,
                endpoint_url=self._settings.aws_endpoint_url,
                config=self._config,
            )
            client = await self._stack.enter_async_context(ctx)
            self._clients[service] = client
        return self._clients[service]

    async def close(self) -> None:
        await self._stack.aclose()
        self._clients.clear()

    async def __aenter__(self) -> "AwsClients":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

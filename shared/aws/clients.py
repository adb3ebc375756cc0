"""Long-lived aiobotocore clients, opened once per process from settings."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

from shared.settings import PlatformSettings


class AwsClients:
    """Opens the AWS clients a service needs and closes them together."""

    def __init__(self, settings: PlatformSettings, *, max_pool_connections: int = 50):
        self._settings = settings
        self._stack = AsyncExitStack()
        self._clients: dict[str, Any] = {}
        self._config = AioConfig(
            max_pool_connections=max_pool_connections,
            retries={"max_attempts": 5, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
        )

    async def client(self, service: str) -> Any:
        """Return the open client for an AWS service, opening it on first use."""
        if service not in self._clients:
            session = get_session()
            ctx = session.create_client(
                service,
                region_name=self._settings.aws_region,
                endpoint_url=self._settings.aws_endpoint_url,
                config=self._config,
            )
            self._clients[service] = await self._stack.enter_async_context(ctx)
        return self._clients[service]

    async def close(self) -> None:
        await self._stack.aclose()
        self._clients.clear()

    async def __aenter__(self) -> "AwsClients":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

"""Secrets Manager (webhook secrets, model endpoint keys): values are registered for redaction once held."""

from __future__ import annotations

import time
from typing import Any, Callable, Protocol

from botocore.exceptions import ClientError

from shared.observability.redaction import register_secret

_GONE = {"ResourceNotFoundException", "InvalidRequestException"}  # missing, or scheduled for deletion


class SecretStore(Protocol):
    async def create(self, name: str, value: str) -> None: ...

    async def get(self, name: str) -> str | None:
        """The secret's value; None if it does not exist (or is being deleted)."""

    async def delete(self, name: str) -> None:
        """Schedule the secret's deletion; nothing if it does not exist."""


class SecretsManagerStore:
    """SecretStore over an aiobotocore Secrets Manager client."""

    def __init__(self, client: Any, *, recovery_window_days: int = 7):
        self._sm = client
        self._recovery_days = recovery_window_days

    async def create(self, name: str, value: str) -> None:
        register_secret(value)
        await self._sm.create_secret(Name=name, SecretString=value)

    async def get(self, name: str) -> str | None:
        try:
            resp = await self._sm.get_secret_value(SecretId=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _GONE:
                return None
            raise
        value = resp.get("SecretString")
        register_secret(value)
        return value

    async def delete(self, name: str) -> None:
        try:
            await self._sm.delete_secret(SecretId=name, RecoveryWindowInDays=self._recovery_days)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in _GONE:
                raise


class CachedSecrets:
    """A SecretStore whose reads are served from memory for `ttl_seconds` (misses are not cached)."""

    def __init__(self, inner: SecretStore, *, ttl_seconds: float = 60.0,
                 clock: Callable[[], float] = time.monotonic):
        self._inner = inner
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[str, float]] = {}

    async def create(self, name: str, value: str) -> None:
        await self._inner.create(name, value)

    async def get(self, name: str) -> str | None:
        hit = self._cache.get(name)
        if hit and hit[1] > self._clock():
            return hit[0]
        value = await self._inner.get(name)
        if value is not None and self._ttl > 0:
            self._cache[name] = (value, self._clock() + self._ttl)
        return value

    async def delete(self, name: str) -> None:
        self._cache.pop(name, None)
        await self._inner.delete(name)

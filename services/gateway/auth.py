"""Verifying RS256 bearer tokens: Cognito ID and access tokens, and the local issuer's, on one code path."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Collection, Protocol

import jwt

from services.gateway.refusals import Unauthorized, Unavailable
from shared.auth.local_issuer import LocalIssuer

_ALGORITHM = "RS256"
_MAX_USER_ID = 128


@dataclass(frozen=True)
class Principal:
    user_id: str
    claims: dict


class SigningKeys(Protocol):
    async def key_for(self, kid: str) -> Any:
        """The public key with this id; jwt.PyJWKClientError if there is none."""


class RemoteJwks:
    """A JWKS endpoint (Cognito's): the key set is cached, and refetched for a key id it does not
    hold, at most once per `min_refresh_seconds` so that made-up key ids cannot hammer the endpoint."""

    def __init__(self, url: str, *, min_refresh_seconds: float = 10.0, lifespan: float = 300.0):
        self._client = jwt.PyJWKClient(url, cache_keys=False, lifespan=lifespan, timeout=5,
                                       cooldown_duration=min_refresh_seconds)

    async def key_for(self, kid: str) -> Any:
        cached = self._cached_key(kid)
        if cached is not None:
            return cached
        # urllib underneath: blocking, and the URL may even be served by this process.
        return (await asyncio.to_thread(self._client.get_signing_key, kid)).key

    def _cached_key(self, kid: str) -> Any:
        """The key from a key set still within its lifespan, read on the loop: a thread hop per request
        costs more than the signature check, and a cache hit does no I/O."""
        cache = self._client.jwk_set_cache
        key_set = cache.get() if cache is not None else None
        for key in key_set.keys if key_set is not None else ():
            if key.key_id == kid and key.public_key_use in ("sig", None):
                return key.key
        return None


class LocalJwks:
    """The embedded stack's issuer, read in process."""

    def __init__(self, issuer: LocalIssuer):
        self._keys = jwt.PyJWKSet.from_dict(issuer.jwks())

    async def key_for(self, kid: str) -> Any:
        for key in self._keys.keys:
            if key.key_id == kid:
                return key.key
        raise jwt.PyJWKClientError(f"no signing key {kid!r}")


def _unauthorized(reason: str) -> Unauthorized:
    return Unauthorized(f"invalid bearer token: {reason}")


class JwtVerifier:
    """Checks signature (RS256 only), expiry, issuer, `token_use` and the app client: `aud` for an
    ID token, `client_id` for an access token. The caller is `sub`."""

    def __init__(self, keys: SigningKeys, *, issuer: str, client_ids: Collection[str], leeway_seconds: int = 30):
        if not issuer or not client_ids:
            raise ValueError("a JwtVerifier needs the issuer and at least one client id")
        self._keys = keys
        self._issuer = issuer
        self._client_ids = frozenset(client_ids)
        self._leeway = leeway_seconds

    async def verify(self, authorization: str | None) -> Principal:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("missing bearer token")
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise _unauthorized("malformed") from exc
        kid = header.get("kid")
        if header.get("alg") != _ALGORITHM or not isinstance(kid, str):
            raise _unauthorized("unsupported algorithm or key id")
        try:
            key = await self._keys.key_for(kid)
        except jwt.PyJWKClientConnectionError as exc:
            raise Unavailable("the identity provider's keys cannot be read") from exc
        except jwt.PyJWTError as exc:
            raise _unauthorized("unknown signing key") from exc
        claims = self._decode(token, key)
        return Principal(user_id=claims["sub"], claims=claims)

    def _decode(self, token: str, key: Any) -> dict:
        try:
            claims = jwt.decode(token, key, algorithms=[_ALGORITHM], issuer=self._issuer, leeway=self._leeway,
                                options={"require": ["exp", "iss", "sub", "token_use"], "verify_aud": False})
        except jwt.ExpiredSignatureError as exc:
            raise _unauthorized("expired") from exc
        except jwt.InvalidIssuerError as exc:
            raise _unauthorized("wrong issuer") from exc
        except jwt.PyJWTError as exc:
            raise _unauthorized(type(exc).__name__) from exc
        use = claims.get("token_use")
        if use == "id":
            aud = claims.get("aud")
            audiences = {aud} if isinstance(aud, str) else set(aud) if isinstance(aud, list) else set()
            if not audiences & self._client_ids:
                raise _unauthorized("wrong audience")
        elif use == "access":
            if claims.get("client_id") not in self._client_ids:
                raise _unauthorized("wrong client")
        else:
            raise _unauthorized("token_use must be id or access")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub or len(sub) > _MAX_USER_ID or not sub.isprintable():
            raise _unauthorized("bad subject")
        return claims

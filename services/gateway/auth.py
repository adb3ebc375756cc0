"""Verifying RS256 bearer tokens against a JWKS (Cognito's in AWS, the local issuer's locally)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import jwt

from services.gateway.errors import ApiError


@dataclass(frozen=True)
class Principal:
    user_id: str
    claims: dict


class JwtVerifier:
    """Checks signature, expiry, issuer and audience; the JWKS is cached and refreshed for new key ids."""

    def __init__(self, jwks_url: str, *, issuer: str | None, audience: str | None):
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600, timeout=5)
        self._issuer = issuer
        self._audience = audience

    async def verify(self, authorization: str | None) -> Principal:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise ApiError("UNAUTHORIZED", "missing bearer token")
        token = authorization.split(" ", 1)[1].strip()
        try:
            # The JWKS fetch is blocking I/O and may hit this very server (local issuer): keep it off the loop.
            key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
            claims = jwt.decode(
                token, key.key, algorithms=["RS256"], issuer=self._issuer, audience=self._audience,
                options={"require": ["exp", "sub"], "verify_aud": self._audience is not None},
            )
        except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
            raise ApiError("UNAUTHORIZED", f"invalid token: {type(exc).__name__}") from exc
        return Principal(user_id=claims["sub"], claims=claims)

"""HMAC-SHA256 request signatures: the generic webhook scheme and GitHub's."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def _hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of "{timestamp}.{raw body}": what a generic webhook caller sends."""
    return PREFIX + _hex(secret, timestamp.encode() + b"." + body)


def github_signature(secret: str, body: bytes) -> str:
    """`sha256=<hex>` of the raw body: GitHub's X-Hub-Signature-256."""
    return PREFIX + _hex(secret, body)


def matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a computed signature with the one received."""
    if not given:
        return False
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode("utf-8", "replace"))


def timestamp_fresh(raw: str | None, now: float, max_skew_seconds: int) -> bool:
    """Whether a unix-seconds timestamp header is within the allowed skew of now."""
    if not raw or not raw.isdigit() or len(raw) > 12:
        return False
    return abs(now - int(raw)) <= max_skew_seconds

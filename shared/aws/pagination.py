"""Opaque pagination tokens wrapping DynamoDB's LastEvaluatedKey."""

from __future__ import annotations

import base64
import json


class InvalidToken(ValueError):
    """A next_token that this service did not issue."""


def encode_token(last_key: dict | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str | None) -> dict | None:
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidToken("next_token is not valid") from exc
    if not isinstance(value, dict):
        raise InvalidToken("next_token is not valid")
    return value

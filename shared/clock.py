"""Time as every record stores it, and time-ordered ids."""

from __future__ import annotations

from datetime import datetime, timezone

from ulid import ULID


def utcnow() -> str:
    """Now, as the ISO-8601 UTC string every record uses (sortable)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def new_id() -> str:
    return str(ULID())

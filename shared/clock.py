"""Time as every record stores it, and time-ordered ids."""

from __future__ import annotations

from datetime import datetime, timezone

from ulid import ULID


def stamp(moment: datetime) -> str:
    """A moment as the ISO-8601 UTC string every record uses (sortable)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utcnow() -> str:
    """Now, as records store it."""
    return stamp(datetime.now(timezone.utc))


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def new_id() -> str:
    return str(ULID())

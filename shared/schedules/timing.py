"""When a schedule is due: 5-field cron (croniter) or `rate(N minutes|hours|days)`, in an IANA timezone."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from shared.schedules.errors import InvalidSchedule

_RATE = re.compile(r"^rate\((\d{1,5}) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
# A rate counts from a fixed origin, so its due times do not drift with when ticks arrive.
_EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)


def zone(name: str) -> ZoneInfo:
    """The IANA timezone `name`, or InvalidSchedule naming the field."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, IsADirectoryError) as exc:
        raise InvalidSchedule("timezone", f"unknown IANA timezone {name[:64]!r}") from exc


def check_cron(expr: str) -> str:
    """A valid five-field cron expression, normalised; InvalidSchedule otherwise."""
    fields = expr.split()
    if len(fields) != 5 or not croniter.is_valid(" ".join(fields)):
        raise InvalidSchedule(
            "cron", f"{expr[:80]!r} is not a five-field cron expression (minute hour day month weekday)")
    return " ".join(fields)


def rate_seconds(expr: str) -> int:
    """The period of `rate(N unit)` in seconds; InvalidSchedule otherwise."""
    match = _RATE.match(expr.strip())
    if not match or int(match.group(1)) < 1:
        raise InvalidSchedule("rate", f"{expr[:80]!r} is not rate(N minutes|hours|days) with N ≥ 1")
    unit = match.group(2).rstrip("s")
    if (int(match.group(1)) == 1) != (match.group(2) == unit):
        raise InvalidSchedule("rate", f"{expr[:80]!r}: write rate(1 {unit}) or rate(N {unit}s)")
    return int(match.group(1)) * _UNIT_SECONDS[unit]


def next_due(*, cron: str | None, rate: str | None, tz: str, after: datetime) -> datetime:
    """The first due time strictly after `after`, in UTC."""
    if cron:
        local = after.astimezone(zone(tz))
        nxt = croniter(check_cron(cron), local).get_next(datetime)
        return nxt.astimezone(timezone.utc)
    if rate:
        period = rate_seconds(rate)
        elapsed = int((after - _EPOCH).total_seconds())
        return _EPOCH + timedelta(seconds=(elapsed // period + 1) * period)
    raise InvalidSchedule("cron", "a schedule needs a cron or a rate expression")


def latest_due(*, cron: str | None, rate: str | None, tz: str, since: datetime, now: datetime) -> datetime | None:
    """The newest due time in (since, now], or None: missed runs collapse into one, never a burst."""
    if cron:
        local = (now + timedelta(microseconds=1)).astimezone(zone(tz))
        due = croniter(check_cron(cron), local).get_prev(datetime).astimezone(timezone.utc)
    elif rate:
        period = rate_seconds(rate)
        due = _EPOCH + timedelta(seconds=int((now - _EPOCH).total_seconds()) // period * period)
    else:
        raise InvalidSchedule("cron", "a schedule needs a cron or a rate expression")
    return due if since < due <= now else None

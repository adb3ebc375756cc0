"""Due times of cron and rate schedules, in UTC and in other timezones."""

from datetime import datetime, timezone

import pytest

from shared.schedules.errors import InvalidSchedule
from shared.schedules.timing import check_cron, latest_due, next_due, rate_seconds, zone


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def test_cron_next_due_is_strictly_after():
    assert next_due(cron="* * * * *", rate=None, tz="UTC", after=at(2026, 12, 1, 10, 0)) == at(2026, 12, 1, 10, 1)
    assert next_due(cron="*/15 * * * *", rate=None, tz="UTC", after=at(2026, 12, 1, 10, 7)) == at(2026, 12, 1, 10, 15)


def test_cron_is_read_in_the_schedules_timezone_across_dst():
    # 09:00 in New York is 14:00 UTC in winter and 13:00 UTC in summer.
    assert next_due(cron="0 9 * * *", rate=None, tz="America/New_York", after=at(2026, 12, 1)) == at(2026, 12, 1, 14)
    assert next_due(cron="0 9 * * *", rate=None, tz="America/New_York", after=at(2026, 7, 1)) == at(2026, 7, 1, 13)


def test_rate_due_times_do_not_drift_with_the_ticks():
    first = next_due(cron=None, rate="rate(5 minutes)", tz="UTC", after=at(2026, 12, 1, 10, 2, 17))
    assert first == at(2026, 12, 1, 10, 5)
    assert next_due(cron=None, rate="rate(5 minutes)", tz="UTC", after=first) == at(2026, 12, 1, 10, 10)
    assert rate_seconds("rate(1 day)") == 86400 and rate_seconds("rate(3 hours)") == 10800


def test_missed_runs_collapse_into_the_latest_one():
    since, now = at(2026, 12, 1, 10, 0), at(2026, 12, 1, 12, 34, 56)
    assert latest_due(cron="* * * * *", rate=None, tz="UTC", since=since, now=now) == at(2026, 12, 1, 12, 34)
    assert latest_due(cron="0 0 1 1 *", rate=None, tz="UTC", since=since, now=now) is None
    assert latest_due(cron=None, rate="rate(1 hour)", tz="UTC", since=since, now=now) == at(2026, 12, 1, 12)


@pytest.mark.parametrize("expr", ["* * * *", "61 * * * *", "* * * * * *", "hello", "@hourly"])
def test_bad_cron_names_the_field(expr):
    with pytest.raises(InvalidSchedule) as err:
        check_cron(expr)
    assert err.value.field == "cron"


@pytest.mark.parametrize("expr", ["rate(0 minutes)", "rate(5 minute)", "rate(1 minutes)", "rate(5 weeks)", "5m"])
def test_bad_rate_names_the_field(expr):
    with pytest.raises(InvalidSchedule) as err:
        rate_seconds(expr)
    assert err.value.field == "rate"


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd", "UTC+3"])
def test_unknown_timezone_names_the_field(name):
    with pytest.raises(InvalidSchedule) as err:
        zone(name)
    assert err.value.field == "timezone"

"""Errors of schedules: bad expressions and store outcomes."""

from __future__ import annotations


class ScheduleError(Exception):
    """Base of schedule errors."""


class InvalidSchedule(ScheduleError, ValueError):
    """An expression or timezone that cannot be evaluated; `field` names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class ScheduleNotFound(ScheduleError):
    def __init__(self, schedule_id: str):
        super().__init__(f"schedule {schedule_id} not found")
        self.schedule_id = schedule_id


class ScheduleChanged(ScheduleError):
    """A conditional write found the schedule changed since it was read (another claim or edit won)."""

"""An in-memory ScheduleStore with the same conditional semantics as the DynamoDB one."""

from __future__ import annotations

from typing import Any, Mapping

from shared.aws.pagination import InvalidToken
from shared.schedules.errors import ScheduleChanged, ScheduleNotFound
from shared.schedules.models import Schedule
from shared.schedules.store import apply_changes


class InMemorySchedules:
    def __init__(self) -> None:
        self.rows: dict[str, Schedule] = {}

    async def create(self, schedule: Schedule) -> Schedule:
        if schedule.schedule_id in self.rows:
            raise ScheduleChanged(f"schedule {schedule.schedule_id} exists")
        self.rows[schedule.schedule_id] = schedule
        return schedule

    async def get(self, schedule_id: str) -> Schedule | None:
        return self.rows.get(schedule_id)

    async def list_for_user(self, user_id: str, *, limit: int = 20,
                            next_token: str | None = None) -> tuple[list[Schedule], str | None]:
        mine = sorted((s for s in self.rows.values() if s.user_id == user_id),
                      key=lambda s: (s.created_at, s.schedule_id))
        start = 0
        if next_token:
            owner, _, after = next_token.partition(":")
            if owner != user_id:
                raise InvalidToken("next_token belongs to another listing")
            start = next((i + 1 for i, s in enumerate(mine) if s.schedule_id == after), len(mine))
        page = mine[start:start + limit]
        more = start + limit < len(mine)
        return page, f"{user_id}:{page[-1].schedule_id}" if more and page else None

    async def due(self, now: str, *, limit: int = 100) -> list[Schedule]:
        due = [s for s in self.rows.values() if not s.paused and s.next_run_at and s.next_run_at <= now]
        return sorted(due, key=lambda s: s.next_run_at or "")[:limit]

    async def update(self, schedule_id: str, changes: Mapping[str, Any], *,
                     expect: Mapping[str, Any]) -> Schedule:
        current = self.rows.get(schedule_id)
        if current is None:
            raise ScheduleNotFound(schedule_id)
        if any(getattr(current, k) != v for k, v in expect.items()):
            raise ScheduleChanged(f"schedule {schedule_id} changed since it was read")
        self.rows[schedule_id] = apply_changes(current, changes)
        return self.rows[schedule_id]

    async def delete(self, schedule_id: str) -> None:
        if self.rows.pop(schedule_id, None) is None:
            raise ScheduleNotFound(schedule_id)

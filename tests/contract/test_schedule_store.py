"""One contract for the ScheduleStore: the in-memory fake and DynamoDB (on the emulator) agree."""

from __future__ import annotations

import pytest

from shared.aws.clients import AwsClients
from shared.aws.pagination import InvalidToken
from shared.schedules.errors import ScheduleChanged, ScheduleNotFound
from shared.schedules.models import Schedule, TaskTemplate
from shared.schedules.store import DynamoScheduleStore
from tests.fakes.schedules import InMemorySchedules


@pytest.fixture(params=["memory", "dynamodb"])
async def schedules(request):
    if request.param == "memory":
        yield InMemorySchedules()
        return
    stack = request.getfixturevalue("stack")
    async with AwsClients(stack.settings) as clients:
        yield DynamoScheduleStore(await clients.client("dynamodb"), stack.names.schedules_table)


def schedule(user: str, next_run_at: str | None = "2026-12-01T10:01:00.000Z", **fields) -> Schedule:
    return Schedule(user_id=user, name="s", cron="* * * * *", next_run_at=next_run_at,
                    template=TaskTemplate(repo="acme/app", task_description="x"), **fields)


async def test_created_schedules_are_read_back_whole(schedules):
    s = await schedules.create(schedule("sc-a", overlap="allow", timezone="Europe/Paris"))
    assert await schedules.get(s.schedule_id) == s
    assert await schedules.get("01J0000000000000000000ZZZZ") is None


async def test_due_lists_active_schedules_at_or_before_now_only(schedules):
    early = await schedules.create(schedule("sc-b", "2026-12-01T09:00:00.000Z"))
    later = await schedules.create(schedule("sc-b", "2026-12-01T11:00:00.000Z"))
    paused = await schedules.create(schedule("sc-b", "2026-12-01T08:00:00.000Z", paused=True))
    due = {s.schedule_id for s in await schedules.due("2026-12-01T10:00:00.000Z")}
    assert early.schedule_id in due and later.schedule_id not in due and paused.schedule_id not in due


async def test_update_is_conditional_on_what_the_caller_read(schedules):
    s = await schedules.create(schedule("sc-c"))
    moved = await schedules.update(s.schedule_id, {"next_run_at": "2026-12-01T10:02:00.000Z", "runs": 1},
                                   expect={"next_run_at": s.next_run_at})
    assert moved.runs == 1 and moved.version == s.version + 1
    with pytest.raises(ScheduleChanged):  # a second claim of the same due time loses
        await schedules.update(s.schedule_id, {"runs": 2}, expect={"next_run_at": s.next_run_at})
    assert (await schedules.get(s.schedule_id)).runs == 1
    paused = await schedules.update(s.schedule_id, {"paused": True, "paused_reason": "why"}, expect={})
    assert paused.paused and paused.paused_reason == "why"
    assert s.schedule_id not in {x.schedule_id for x in await schedules.due("2030-01-01T00:00:00.000Z")}
    with pytest.raises(ScheduleNotFound):
        await schedules.update("01J0000000000000000000ZZZZ", {"runs": 1}, expect={})


async def test_delete_once(schedules):
    s = await schedules.create(schedule("sc-d"))
    await schedules.delete(s.schedule_id)
    assert await schedules.get(s.schedule_id) is None
    with pytest.raises(ScheduleNotFound):
        await schedules.delete(s.schedule_id)


async def test_listing_is_per_user_and_paginated(schedules):
    mine = {(await schedules.create(schedule("sc-e"))).schedule_id for _ in range(3)}
    await schedules.create(schedule("sc-f"))
    seen, token = [], None
    while True:
        page, token = await schedules.list_for_user("sc-e", limit=2, next_token=token)
        seen += [s.schedule_id for s in page]
        if not token:
            break
    assert sorted(seen) == sorted(mine)
    _, token = await schedules.list_for_user("sc-e", limit=1)
    with pytest.raises(InvalidToken):
        await schedules.list_for_user("sc-f", limit=1, next_token=token)

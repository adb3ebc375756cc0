"""DELETE /v1/tasks/{id}: cancel from every cancellable state, refuse the rest, survive concurrent moves."""

from __future__ import annotations

import pytest

from shared.events.models import SlotReleased, TaskCancelled
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S
from tests.fakes.tasks import InMemoryTaskStore
from tests.gateway.conftest import build_gateway

PATHS = {
    S.SUBMITTED: [],
    S.QUEUED: [S.QUEUED],
    S.HYDRATING: [S.HYDRATING],
    S.RUNNING: [S.HYDRATING, S.RUNNING],
    S.FINALIZING: [S.HYDRATING, S.RUNNING, S.FINALIZING],
    S.COMPLETED: [S.HYDRATING, S.RUNNING, S.FINALIZING, S.COMPLETED],
    S.FAILED: [S.FAILED],
    S.CANCELLED: [S.CANCELLED],
    S.TIMED_OUT: [S.HYDRATING, S.RUNNING, S.TIMED_OUT],
}


async def task_in(store, status: S, user: str = "alice") -> Task:
    task = await store.create(Task.new(user_id=user, repo="acme/app", task_description="work"))
    for step in PATHS[status]:
        task = await store.transition(task.task_id, step, max_active=5)
    return task


@pytest.mark.parametrize("status", [S.SUBMITTED, S.QUEUED, S.HYDRATING, S.RUNNING])
async def test_cancel_from_every_cancellable_state(gw, status):
    task = await task_in(gw.tasks, status)
    held = task.slot_held
    async with gw.client("alice") as c:
        resp = await c.delete(f"/v1/tasks/{task.task_id}")
    assert resp.status_code == 200 and resp.json()["data"]["status"] == "CANCELLED"
    assert resp.json()["data"]["completed_at"]
    stored = await gw.tasks.get(task.task_id)
    assert stored.status == S.CANCELLED and not stored.slot_held
    assert (await gw.tasks.get_concurrency("alice")).active_count == 0
    assert [e.task_id for e in gw.bus.of(TaskCancelled)] == [task.task_id]
    assert [e.task_id for e in gw.bus.of(SlotReleased)] == ([task.task_id] if held else [])
    events, _ = await gw.tasks.list_events(task.task_id)
    assert events[-1].metadata["to"] == "CANCELLED"


@pytest.mark.parametrize("status", [S.COMPLETED, S.FAILED, S.CANCELLED, S.TIMED_OUT])
async def test_cancel_of_a_terminal_task_is_409_already_terminal(gw, status):
    task = await task_in(gw.tasks, status)
    async with gw.client("alice") as c:
        resp = await c.delete(f"/v1/tasks/{task.task_id}")
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "TASK_ALREADY_TERMINAL" and status.value in resp.json()["error"]["message"]
    assert gw.bus.published == []


async def test_cancel_of_a_finalizing_task_explains_that_finalization_is_completing(gw):
    task = await task_in(gw.tasks, S.FINALIZING)
    async with gw.client("alice") as c:
        resp = await c.delete(f"/v1/tasks/{task.task_id}")
    assert resp.status_code == 409 and "FINALIZING" in resp.json()["error"]["message"]
    assert (await gw.tasks.get(task.task_id)).status == S.FINALIZING and gw.bus.published == []


class MovesUnderneath(InMemoryTaskStore):
    """A store where another service moves the task just before the gateway's first write."""

    def __init__(self, moves: list[S]):
        super().__init__()
        self.moves = moves

    async def transition(self, task_id, target, **kw):
        if target == S.CANCELLED and self.moves:
            for step in self.moves:
                await super().transition(task_id, step, max_active=5)
            self.moves = []
        return await super().transition(task_id, target, **kw)


async def test_a_task_admitted_meanwhile_is_still_cancelled_and_its_slot_released(issuer):
    gw = build_gateway(issuer, tasks=MovesUnderneath([S.HYDRATING]))
    task = await task_in(gw.tasks, S.SUBMITTED)
    async with gw.client("alice") as c:
        resp = await c.delete(f"/v1/tasks/{task.task_id}")
    assert resp.status_code == 200 and resp.json()["data"]["status"] == "CANCELLED"
    assert [e.task_id for e in gw.bus.of(SlotReleased)] == [task.task_id]
    assert (await gw.tasks.get_concurrency("alice")).active_count == 0


async def test_a_task_that_finished_meanwhile_answers_409(issuer):
    gw = build_gateway(issuer, tasks=MovesUnderneath([S.FINALIZING, S.COMPLETED]))
    task = await task_in(gw.tasks, S.RUNNING)
    async with gw.client("alice") as c:
        resp = await c.delete(f"/v1/tasks/{task.task_id}")
    assert resp.status_code == 409 and "COMPLETED" in resp.json()["error"]["message"]
    assert gw.bus.published == []


async def test_cancel_of_a_missing_task_is_404(gw):
    async with gw.client("alice") as c:
        resp = await c.delete("/v1/tasks/01J0000000000000000000NONE")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "TASK_NOT_FOUND"

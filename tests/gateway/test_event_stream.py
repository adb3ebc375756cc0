"""GET /v1/tasks/{id}/events/stream: every event in order, resumable, owner only, bounded per user."""

from __future__ import annotations

import asyncio
import json

import pytest
from ulid import ULID

from services.gateway.streaming import FeedHub, StreamSlots, TaskFeed
from shared.clock import new_id
from shared.tasks.models import Task, TaskEvent
from shared.tasks.states import TaskStatus as S
from tests.fakes.tasks import InMemoryTaskStore
from tests.gateway.conftest import build_gateway
from tests.gateway.fakes import InMemoryEventReader


@pytest.fixture
def gw(issuer):
    return build_gateway(issuer, stream_poll_seconds=0.02, stream_settle_seconds=0)


def parse(body: str) -> list[dict]:
    """The messages of an SSE body: each as {id, data} (comments and the retry hint left out)."""
    messages = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":"))
        if "data" in fields:
            messages.append({"id": fields["id"], "data": json.loads(fields["data"])})
    return messages


async def _finished_task(store: InMemoryTaskStore, user: str = "alice") -> Task:
    task = await store.create(Task.new(user_id=user, repo="acme/app", task_description="x"))
    await store.transition(task.task_id, S.HYDRATING, max_active=3)
    await store.transition(task.task_id, S.RUNNING)
    for turn in (1, 2):
        await store.append_event(task.task_id, "agent.turn", {"turn": turn})
    await store.transition(task.task_id, S.CANCELLED)
    return task


async def test_the_stream_sends_every_event_in_order_and_ends_after_the_terminal_one(gw):
    task = await _finished_task(gw.tasks)
    async with gw.client("alice") as c:
        resp = await c.get(f"/v1/tasks/{task.task_id}/events/stream")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
    messages = parse(resp.text)
    trail = gw.tasks.events[task.task_id]
    assert [m["id"] for m in messages] == [e.event_id for e in trail]
    assert [m["data"]["event_type"] for m in messages] == ["transition"] * 3 + ["agent.turn"] * 2 + ["transition"]
    async with gw.client("alice") as c:
        listed = (await c.get(f"/v1/tasks/{task.task_id}/events")).json()["data"]
    assert [m["data"] for m in messages] == listed  # the same JSON as the events list
    assert gw.deps.streams.open_for("alice") == 0 and gw.deps.feeds.active_feeds == 0


async def test_last_event_id_resumes_after_that_event(gw):
    task = await _finished_task(gw.tasks)
    trail = gw.tasks.events[task.task_id]
    async with gw.client("alice", **{"Last-Event-ID": trail[2].event_id}) as c:
        resp = await c.get(f"/v1/tasks/{task.task_id}/events/stream")
    assert [m["id"] for m in parse(resp.text)] == [e.event_id for e in trail[3:]]


async def test_another_users_task_or_a_missing_one_is_a_404_envelope(gw):
    task = await _finished_task(gw.tasks)
    async with gw.client("mallory") as c:
        theirs = await c.get(f"/v1/tasks/{task.task_id}/events/stream")
        missing = await c.get(f"/v1/tasks/{new_id()}/events/stream")
    for resp in (theirs, missing):
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "TASK_NOT_FOUND"
    assert gw.deps.streams.open_for("mallory") == 0


async def test_over_the_per_user_cap_is_429(issuer):
    gw = build_gateway(issuer, stream_max_per_user=2)
    task = await _finished_task(gw.tasks)
    assert gw.deps.streams.take("alice") and gw.deps.streams.take("alice")
    async with gw.client("alice") as c:
        resp = await c.get(f"/v1/tasks/{task.task_id}/events/stream")
    assert resp.status_code == 429 and resp.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert resp.headers["retry-after"]


async def test_events_younger_than_the_settle_delay_wait_their_turn():
    store = InMemoryTaskStore()
    task = await store.create(Task.new(user_id="alice", repo="acme/app", task_description="x"))
    now = [10_000.0]
    feed = TaskFeed(InMemoryEventReader(store), task.task_id, poll_seconds=1, settle_seconds=0.5,
                    clock=lambda: now[0])
    early, late = _event_at(task.task_id, 9_999.6), _event_at(task.task_id, 9_999.8)
    store.events[task.task_id] = [late]  # the later id committed first
    await feed.poll()
    assert feed.events == []  # not settled: a write with a smaller id may still land before it
    store.events[task.task_id] = [early, late]
    now[0] = 10_000.2
    await feed.poll()
    assert feed.events == [early]
    now[0] = 10_000.4
    await feed.poll()
    assert feed.events == [early, late]


def _event_at(task_id: str, at: float) -> TaskEvent:
    return TaskEvent(task_id=task_id, event_id=str(ULID.from_timestamp(at)), event_type="agent.turn")


async def test_one_poller_serves_every_stream_of_a_task_and_stops_with_the_last():
    store = InMemoryTaskStore()
    hub = FeedHub(InMemoryEventReader(store), poll_seconds=0.01, settle_seconds=0)
    async with hub.follow("t1") as a, hub.follow("t1") as b:
        assert a is b and hub.active_feeds == 1
        await asyncio.sleep(0.03)
    assert hub.active_feeds == 0


def test_stream_slots_are_counted_per_user():
    slots = StreamSlots(1)
    assert slots.take("a") and not slots.take("a") and slots.take("b")
    slots.give_back("a")
    assert slots.take("a")


async def test_an_idle_stream_sends_heartbeats_and_new_events_then_closes_with_the_task(issuer):
    gw = build_gateway(issuer, stream_poll_seconds=0.02, stream_settle_seconds=0, stream_heartbeat_seconds=0.1)
    task = await gw.tasks.create(Task.new(user_id="alice", repo="acme/app", task_description="x"))

    async def later() -> None:
        await asyncio.sleep(0.5)
        await gw.tasks.append_event(task.task_id, "agent.turn", {"turn": 1})
        await asyncio.sleep(0.2)
        await gw.tasks.transition(task.task_id, S.CANCELLED)

    async with gw.client("alice") as c:
        resp, _ = await asyncio.gather(c.get(f"/v1/tasks/{task.task_id}/events/stream"), later())
    assert resp.text.count(": heartbeat") >= 3
    assert [m["data"]["event_type"] for m in parse(resp.text)] == ["transition", "agent.turn", "transition"]
    assert gw.deps.streams.open_for("alice") == 0 and gw.deps.feeds.active_feeds == 0

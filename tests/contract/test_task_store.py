"""One contract for every TaskStore: the in-memory fake and DynamoDB (on the emulator) must agree."""

from __future__ import annotations

import asyncio

import pytest

from shared.tasks.errors import IdempotencyConflict, SlotUnavailable, TransitionConflict
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S


async def _new(store, user="alice", **kw) -> Task:
    return await store.create(Task.new(user_id=user, repo="acme/app", task_description="fix it", **kw))


async def test_happy_path_transitions_append_events_in_order(store):
    task = await _new(store)
    await store.transition(task.task_id, S.HYDRATING, max_active=2)
    await store.transition(task.task_id, S.RUNNING, changes={"compute_handle": "process:1"})
    await store.transition(task.task_id, S.FINALIZING)
    done = await store.transition(task.task_id, S.COMPLETED, changes={"pr_url": "http://pr/1"})
    assert done.status == S.COMPLETED and not done.slot_held and done.expires_at
    stored = await store.get(task.task_id)
    assert stored.pr_url == "http://pr/1" and stored.compute_handle == "process:1"
    events, _ = await store.list_events(task.task_id)
    assert [e.metadata["to"] for e in events] == ["SUBMITTED", "HYDRATING", "RUNNING", "FINALIZING", "COMPLETED"]
    assert (await store.get_concurrency("alice")).active_count == 0


async def test_admission_stops_at_the_cap_and_leaves_nothing_written(store):
    a, b = await _new(store), await _new(store)
    await store.transition(a.task_id, S.HYDRATING, max_active=1)
    with pytest.raises(SlotUnavailable):
        await store.transition(b.task_id, S.HYDRATING, max_active=1)
    after = await store.get(b.task_id)
    assert after.status == S.SUBMITTED and not after.slot_held
    events, _ = await store.list_events(b.task_id)
    assert len(events) == 1
    assert (await store.get_concurrency("alice")).active_count == 1


async def test_stale_transition_is_a_conflict_carrying_the_current_task(store):
    task = await _new(store)
    await store.transition(task.task_id, S.CANCELLED)
    with pytest.raises(TransitionConflict) as err:
        await store.transition(task.task_id, S.HYDRATING, max_active=3)
    assert err.value.current.status == S.CANCELLED


async def test_racing_admissions_never_exceed_the_cap(store):
    tasks = [await _new(store, user="bob") for _ in range(6)]
    results = await asyncio.gather(
        *[store.transition(t.task_id, S.HYDRATING, max_active=2) for t in tasks], return_exceptions=True)
    admitted = [r for r in results if isinstance(r, Task)]
    assert len(admitted) == 2
    assert all(isinstance(r, SlotUnavailable) for r in results if not isinstance(r, Task))
    assert (await store.get_concurrency("bob")).active_count == 2


async def test_release_with_a_drifted_zero_counter_still_ends_the_task(store):
    task = await _new(store, user="carol")
    await store.transition(task.task_id, S.HYDRATING, max_active=2)
    assert await store.correct_active_count("carol", observed=1, actual=0)
    ended = await store.transition(task.task_id, S.FAILED, changes={"error_message": "boom"})
    assert ended.status == S.FAILED
    assert (await store.get_concurrency("carol")).active_count == 0


async def test_update_is_conditional_on_status(store):
    task = await _new(store)
    await store.transition(task.task_id, S.CANCELLED)
    with pytest.raises(TransitionConflict):
        await store.update(task.task_id, {"agent_heartbeat_at": "2026-01-01T00:00:00Z"}, expected_status=S.RUNNING)


async def test_idempotency_key_is_bound_once(store):
    first = await _new(store, idempotency_key="alice#k1")
    with pytest.raises(IdempotencyConflict) as err:
        await _new(store, idempotency_key="alice#k1")
    assert err.value.task_id == first.task_id


async def test_oldest_queued_is_fifo(store):
    tasks = [await _new(store, user="dan") for _ in range(3)]
    for t in tasks:
        await store.transition(t.task_id, S.QUEUED)
    queued = await store.oldest_queued("dan")
    assert [t.task_id for t in queued] == [t.task_id for t in tasks]


async def test_event_with_explicit_id_is_written_once(store):
    task = await _new(store)
    assert await store.append_event(task.task_id, "agent.turn", {"n": 1}, event_id="01J0000000000000000000TURN")
    assert await store.append_event(task.task_id, "agent.turn", {"n": 1}, event_id="01J0000000000000000000TURN") is None
    events, token = await store.list_events(task.task_id, limit=1)
    assert len(events) == 1 and token
    rest, _ = await store.list_events(task.task_id, limit=10, next_token=token)
    assert len(rest) == 1

"""The list_for_user contract: newest first, filtered, paginated, and tokens bound to one listing."""

from __future__ import annotations

import pytest

import shared.tasks.dynamo_listing as dynamo_listing
from shared.aws.pagination import InvalidToken, decode_token, encode_token
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S
from shared.tasks.store import listing_fingerprint


async def _seed(store, user: str, n: int, *, repo: str = "acme/app", minute: int = 0) -> list[Task]:
    """n tasks with distinct, increasing creation times (returned oldest first)."""
    tasks = []
    for i in range(n):
        created = f"2026-01-01T00:{minute:02d}:{i:02d}.000Z"
        task = Task.new(user_id=user, repo=repo, task_description=f"task {i}", created_at=created, updated_at=created)
        tasks.append(await store.create(task))
    return tasks


async def _all_pages(store, user: str, **filters) -> list[list[str]]:
    pages, token = [], None
    while True:
        page, token = await store.list_for_user(user, next_token=token, **filters)
        pages.append([t.task_id for t in page])
        if token is None:
            return pages


async def test_pages_are_newest_first_and_cover_every_task_once(store):
    tasks = await _seed(store, "alice", 5)
    await _seed(store, "bob", 3)
    pages = await _all_pages(store, "alice", limit=2)
    assert pages == [[t.task_id for t in reversed(tasks)][i:i + 2] for i in (0, 2, 4)]


async def test_a_full_last_page_says_there_is_no_more(store):
    await _seed(store, "alice", 3)
    page, token = await store.list_for_user("alice", limit=3)
    assert len(page) == 3 and token is None
    assert await store.list_for_user("nobody") == ([], None)


async def test_one_status_filter(store):
    tasks = await _seed(store, "alice", 4)
    for t in tasks[1:3]:
        await store.transition(t.task_id, S.QUEUED)
    page, token = await store.list_for_user("alice", statuses=[S.QUEUED], limit=10)
    assert [t.task_id for t in page] == [tasks[2].task_id, tasks[1].task_id] and token is None
    pages = await _all_pages(store, "alice", statuses=[S.QUEUED], limit=1)
    assert pages == [[tasks[2].task_id], [tasks[1].task_id]]


async def test_several_statuses_and_a_repo_filter_paginate_across_sparse_matches(store, monkeypatch):
    # Read two index items per query so that filtered pages need several queries on DynamoDB.
    monkeypatch.setattr(dynamo_listing, "_FILTERED_PAGE_READ", 2)
    tasks = await _seed(store, "alice", 8)
    other_repo = await _seed(store, "alice", 2, repo="acme/other", minute=1)
    await store.transition(tasks[0].task_id, S.CANCELLED)
    await store.transition(tasks[5].task_id, S.QUEUED)
    await store.transition(other_repo[0].task_id, S.QUEUED)
    pages = await _all_pages(store, "alice", statuses=[S.QUEUED, S.CANCELLED], repo="acme/app", limit=1)
    assert [i for p in pages for i in p] == [tasks[5].task_id, tasks[0].task_id]
    by_repo = await _all_pages(store, "alice", repo="acme/other", limit=5)
    assert by_repo == [[other_repo[1].task_id, other_repo[0].task_id]]


async def test_a_token_only_resumes_the_listing_that_issued_it(store):
    await _seed(store, "alice", 3)
    await _seed(store, "bob", 3)
    _, token = await store.list_for_user("alice", limit=1)
    assert token
    with pytest.raises(InvalidToken):
        await store.list_for_user("bob", limit=1, next_token=token)
    with pytest.raises(InvalidToken):
        await store.list_for_user("alice", statuses=[S.SUBMITTED], limit=1, next_token=token)
    with pytest.raises(InvalidToken):
        await store.list_for_user("alice", limit=1, next_token="bm90LWEtdG9rZW4")
    # Re-binding alice's position to bob's listing is still refused: the position names alice.
    forged = {**decode_token(token), "l": listing_fingerprint("bob", None, None)}
    with pytest.raises(InvalidToken):
        await store.list_for_user("bob", limit=1, next_token=encode_token(forged))

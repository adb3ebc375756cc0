"""One contract for the EvalStore: the in-memory fake and DynamoDB (on the emulator) agree."""

from __future__ import annotations

import pytest

from shared.aws.clients import AwsClients
from shared.aws.pagination import InvalidToken
from shared.evals.errors import AttemptAlreadyCounted, EvalCapReached, EvalChanged
from shared.evals.models import AttemptRecord, CaseRow, EvalRun, RunSettings
from shared.evals.store import DynamoEvalStore, next_version
from tests.fakes.evals import InMemoryEvals


@pytest.fixture(params=["memory", "dynamodb"])
async def evals(request):
    if request.param == "memory":
        yield InMemoryEvals()
        return
    stack = request.getfixturevalue("stack")
    async with AwsClients(stack.settings) as clients:
        yield DynamoEvalStore(await clients.client("dynamodb"), stack.names.evals_table, stack.names.eval_items_table)


def run(user: str, cases: int = 3, **fields) -> EvalRun:
    return EvalRun(user_id=user, name="r", settings=RunSettings(attempts=2), case_count=cases, **fields)


def rows(n: int) -> list[CaseRow]:
    return [CaseRow(index=i, case_id=f"case {i}/é", repo="acme/app", task=f"do {i}") for i in range(n)]


def record(index: int, attempt: int, **fields) -> AttemptRecord:
    return AttemptRecord(case_index=index, case_id=f"case {index}/é", attempt=attempt, task_id=f"t{index}{attempt}",
                         status="COMPLETED", classification="PASSED", grade="passed", reward=1, cost_usd=0.25,
                         **fields)


async def test_a_run_is_read_back_whole_with_its_cases_in_order(evals):
    r = await evals.create(run("ev-a", cases=30, in_flight={"0": "t1"}), rows(30))
    assert await evals.get(r.eval_id) == r
    assert await evals.get("01J0000000000000000000ZZZZ") is None
    assert [c.index for c in await evals.cases(r.eval_id)] == list(range(30))
    page = await evals.cases(r.eval_id, start=10, limit=5)
    assert [c.case_id for c in page] == [f"case {i}/é" for i in range(10, 15)]


async def test_listing_is_newest_first_and_bound_to_the_user(evals):
    first = await evals.create(run("ev-b", created_at="2026-12-01T10:00:00.000Z"), rows(1))
    second = await evals.create(run("ev-b", created_at="2026-12-01T11:00:00.000Z"), rows(1))
    await evals.create(run("ev-other"), rows(1))
    page, token = await evals.list_for_user("ev-b", limit=1)
    assert [r.eval_id for r in page] == [second.eval_id] and token
    rest, token2 = await evals.list_for_user("ev-b", limit=1, next_token=token)
    assert [r.eval_id for r in rest] == [first.eval_id]
    with pytest.raises(InvalidToken):
        await evals.list_for_user("ev-other", next_token=token)


async def test_replace_is_conditional_on_the_version_read(evals):
    r = await evals.create(run("ev-c"), rows(3))
    moved = await evals.replace(r, next_version(r, next_slot=1, in_flight={"0": ""}))
    assert (await evals.get(r.eval_id)).next_slot == 1 and moved.version == r.version + 1
    with pytest.raises(EvalChanged):  # a second claim of the same slot loses
        await evals.replace(r, next_version(r, next_slot=1))
    assert r.eval_id in {x.eval_id for x in await evals.running()}
    await evals.replace(moved, next_version(moved, status="completed"))
    assert r.eval_id not in {x.eval_id for x in await evals.running()}


async def test_an_attempt_is_counted_once(evals):
    r = await evals.create(run("ev-d", in_flight={"0": "t01"}), rows(3))
    counted = await evals.count(r, next_version(r, in_flight={}, counted=1, cost_usd=0.25), record(0, 1))
    with pytest.raises(AttemptAlreadyCounted):  # a redelivered end, even against the newest version
        await evals.count(counted, next_version(counted, counted=2), record(0, 1))
    stale = await evals.count(counted, next_version(counted, counted=2), record(1, 2, duration_s=3.5))
    with pytest.raises(EvalChanged):  # the run moved since it was read: the transaction writes nothing
        await evals.count(r, next_version(r, counted=9), record(2, 1))
    assert (await evals.get(r.eval_id)).counted == stale.counted == 2
    assert [(a.case_index, a.attempt) for a in await evals.attempts(r.eval_id)] == [(0, 1), (1, 2)]
    assert [a.duration_s for a in await evals.attempts(r.eval_id, first=1, last=1)] == [3.5]
    assert await evals.attempts(r.eval_id, first=2) == []


async def test_claims_take_the_platforms_places_and_counts_give_them_back(evals):
    r = await evals.create(run("ev-e"), rows(3))
    before = await evals.places_taken()
    a = await evals.claim(r, next_version(r, next_slot=1, in_flight={"0": ""}), cap=before + 2)
    b = await evals.claim(a, next_version(a, next_slot=2, in_flight={"0": "", "1": ""}), cap=before + 2)
    with pytest.raises(EvalCapReached):  # every place taken: nothing written
        await evals.claim(b, next_version(b, next_slot=3), cap=before + 2)
    assert (await evals.get(r.eval_id)).next_slot == 2 and await evals.places_taken() == before + 2
    with pytest.raises(EvalChanged):
        await evals.claim(a, next_version(a, next_slot=9), cap=before + 10)
    assert await evals.places_taken() == before + 2
    await evals.count(b, next_version(b, in_flight={"1": ""}, counted=1), record(0, 1))
    assert await evals.places_taken() == before + 1

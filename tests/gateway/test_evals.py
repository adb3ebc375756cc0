"""Evaluation runs over the API: validation naming case and field, the 16 MiB body, owner scoping, results, rollouts."""

from __future__ import annotations

import json

import pytest

from shared.aws.errors import StoreUnavailable
from shared.evals.cases import case_key
from shared.evals.driver import EvalDriver
from shared.evals.results import pass_at_k
from shared.tasks.states import TaskStatus as S
from tests.fakes.collaborators import FakeGitHost
from tests.fakes.tasks import InMemoryTaskStore
from tests.support.evals import BASE, body, case, finish


def driver(gw) -> EvalDriver:
    return EvalDriver(gw.deps.evals, gw.tasks, gw.bus)


def attempts_of(gw, eval_id: str) -> list:
    return sorted((t for t in gw.tasks.tasks.values() if t.eval_id == eval_id), key=lambda t: t.created_at)


async def test_a_run_starts_its_attempts_as_tasks_and_shows_them(gw):
    async with gw.client("alice") as c:
        resp = await c.post("/v1/evals", json=body(3, attempts=2, concurrency=4, max_turns=7, engine="oracle",
                                                   cases=[case(i, gold_patch="") for i in range(3)]))
        assert resp.status_code == 201, resp.text
        run = resp.json()["data"]
        assert resp.headers["location"] == f"/v1/evals/{run['eval_id']}"
        assert run["status"] == "running" and run["case_count"] == 3 and run["attempts"] == 2
        assert run["engine"] == "oracle" and run["submitted"] == 4
        tasks = attempts_of(gw, run["eval_id"])
        assert [(t.case_id, t.attempt) for t in tasks] == [("case-0", 1), ("case-0", 2), ("case-1", 1), ("case-1", 2)]
        assert {(t.user_id, t.channel_source, t.max_turns) for t in tasks} == {("alice", "eval", 7)}
        # The hidden tests are kept for grading only: never on the task.
        stored = json.loads(gw.deps.attachments.objects[case_key(run["eval_id"], "case-1")][0])
        assert stored["test_patch"].startswith("diff --git a/tests/test_1.py")
        assert all("test_1.py" not in t.model_dump_json() for t in tasks)
        shown = (await c.get(f"/v1/evals/{run['eval_id']}")).json()["data"]
        assert [x["case_id"] for x in shown["cases"]] == ["case-0", "case-1", "case-2"]
        assert [(a["attempt"], a["status"]) for a in shown["cases"][0]["attempts"]] == [(1, "SUBMITTED"),
                                                                                       (2, "SUBMITTED")]
        assert shown["cases"][2]["attempts"] == [] and shown["results"]["attempts_counted"] == 0
        listed = (await c.get("/v1/evals")).json()["data"]
        assert [x["eval_id"] for x in listed] == [run["eval_id"]]
        task_view = (await c.get(f"/v1/tasks/{tasks[0].task_id}")).json()["data"]
        assert (task_view["eval_id"], task_view["case_id"], task_view["attempt"]) == (run["eval_id"], "case-0", 1)


@pytest.mark.parametrize("cases, extra, field, words", [
    ([case(0), {k: v for k, v in case(1).items() if k != "test_patch"}], {}, "cases.1.test_patch", 'case "case-1"'),
    ([case(0), case(1), case(0)], {}, "cases.2.id", "duplicate id, first at cases.0"),
    ([case(0), case(1, repo="acme/gone")], {}, "cases.1.repo", "acme/gone is not onboarded"),
    ([case(0), case(1, repo="acme/unknown")], {}, "cases.1.repo", "acme/unknown is not onboarded"),
    ([case(0, gold_patch=""), case(1)], {"engine": "oracle"}, "cases.1.gold_patch", "gold_patch"),
    ([case(0, base="main")], {}, "cases.0.base", "commit id"),
    ([case(0, surprise=1)], {}, "cases.0.surprise", 'case "case-0"'),
])
async def test_a_bad_case_is_400_naming_case_and_field_and_nothing_is_created(gw, cases, extra, field, words):
    async with gw.client("alice") as c:
        resp = await c.post("/v1/evals", json={"name": "n", "cases": cases, **extra})
    assert resp.status_code == 400, resp.text
    err = resp.json()["error"]
    details = {d["field"]: d["message"] for d in err["details"]}
    assert err["code"] == "VALIDATION_ERROR" and field in details and words in details[field], details
    assert gw.deps.evals.runs == {} and gw.tasks.tasks == {} and gw.deps.attachments.objects == {}


async def test_the_evals_route_takes_16_mib_and_no_more(gw):
    patch = "+" * 1_900_000
    big = body(0)
    big["cases"] = [case(i, test_patch=patch) for i in range(8)]  # about 15.2 MB
    too_big = {**big, "cases": [case(i, test_patch=patch) for i in range(9)]}  # about 17.1 MB
    async with gw.client("alice") as c:
        assert (await c.post("/v1/evals", json=big)).status_code == 201
        refused = await c.post("/v1/evals", json=too_big)
        assert refused.status_code == 413 and refused.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"

        async def chunks():  # no Content-Length: the streamed bytes are counted
            data = json.dumps(too_big).encode()
            for start in range(0, len(data), 1 << 20):
                yield data[start:start + (1 << 20)]
        streamed = await c.post("/v1/evals", content=chunks(), headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413
        # Other routes keep their own limit.
        assert (await c.post("/v1/tasks", json={"repo": "acme/app", "task_description": patch * 3})).status_code == 413


async def test_another_users_run_is_not_found(gw):
    async with gw.client("alice") as c:
        eval_id = (await c.post("/v1/evals", json=body())).json()["data"]["eval_id"]
    async with gw.client("bob") as c:
        for resp in (await c.get(f"/v1/evals/{eval_id}"), await c.delete(f"/v1/evals/{eval_id}"),
                     await c.get(f"/v1/evals/{eval_id}/rollouts")):
            assert resp.status_code == 404 and resp.json()["error"]["code"] == "EVAL_NOT_FOUND"
        assert (await c.get("/v1/evals")).json()["data"] == []
    assert (await gw.deps.evals.get(eval_id)).status == "running"


async def test_results_follow_the_estimator_over_graded_attempts(gw):
    # case-0: passes 1 of 3; case-1: 2 of 3 with one grader error (so 1 of 2); case-2: none of 3.
    grades = {"case-0": ["passed", "failed", "failed"], "case-1": ["passed", "grader_error", "failed"],
              "case-2": ["failed", "failed", "failed"]}
    async with gw.client("alice") as c:
        eval_id = (await c.post("/v1/evals", json=body(3, attempts=3, concurrency=9))).json()["data"]["eval_id"]
        for task in attempts_of(gw, eval_id):
            done = await finish(gw.tasks, task.task_id, grade=grades[task.case_id][task.attempt - 1], cost=0.5)
            assert await driver(gw).count(done)
        run = (await c.get(f"/v1/evals/{eval_id}")).json()["data"]
    r = run["results"]
    assert run["status"] == "completed" and run["counted"] == 9
    assert r["pass_at_1"] == pytest.approx((1 / 3 + 1 / 2 + 0) / 3, abs=1e-6)
    assert r["pass_at_k"] == pytest.approx((pass_at_k(3, 1, 3) + pass_at_k(2, 1, 3) + 0) / 3, abs=1e-6)
    assert r["pass_at_k"] == pytest.approx(2 / 3, abs=1e-6)
    assert r["solved"] == 2 and r["cost_usd"] == pytest.approx(4.5) and r["cost_per_solved_usd"] == 2.25
    assert r["by_classification"] == {"FAILED_TESTS": 6, "GRADER_ERROR": 1, "PASSED": 2}
    case1 = run["cases"][1]["attempts"]
    assert [(a["attempt"], a["reward"], a["classification"]) for a in case1] == [
        (1, 1, "PASSED"), (2, None, "GRADER_ERROR"), (3, 0, "FAILED_TESTS")]


async def test_cases_are_paged(gw):
    async with gw.client("alice") as c:
        eval_id = (await c.post("/v1/evals", json=body(5, concurrency=1))).json()["data"]["eval_id"]
        first = (await c.get(f"/v1/evals/{eval_id}", params={"limit": 2})).json()
        assert [x["case_id"] for x in first["data"]["cases"]] == ["case-0", "case-1"]
        token = first["pagination"]["next_token"]
        seen = []
        while token:
            page = (await c.get(f"/v1/evals/{eval_id}", params={"limit": 2, "next_token": token})).json()
            seen += [x["case_id"] for x in page["data"]["cases"]]
            token = page["pagination"]["next_token"]
        assert seen == ["case-2", "case-3", "case-4"]
        other = (await c.post("/v1/evals", json=body(3))).json()["data"]["eval_id"]
        assert (await c.get(f"/v1/evals/{other}", params={"next_token": first["pagination"]["next_token"]})
                ).status_code == 400


async def test_cancel_keeps_finished_attempts_and_cancels_the_rest(gw):
    async with gw.client("alice") as c:
        eval_id = (await c.post("/v1/evals", json=body(4, concurrency=2))).json()["data"]["eval_id"]
        first, second = attempts_of(gw, eval_id)
        await driver(gw).count(await finish(gw.tasks, first.task_id))
        resp = await c.delete(f"/v1/evals/{eval_id}")
        assert resp.status_code == 200 and resp.json()["data"]["status"] == "cancelled"
        again = await c.delete(f"/v1/evals/{eval_id}")
        assert again.status_code == 409 and again.json()["error"]["code"] == "EVAL_NOT_RUNNING"
        run = (await c.get(f"/v1/evals/{eval_id}")).json()["data"]
    running = [t for t in attempts_of(gw, eval_id) if t.task_id != first.task_id]
    assert {t.status for t in running} == {S.CANCELLED} and len(attempts_of(gw, eval_id)) == 3
    assert run["results"]["by_classification"] == {"CANCELLED": 2, "PASSED": 1}
    assert run["results"]["pass_at_1"] == 1.0


TRAJECTORY = {
    "system": [{"type": "text", "text": "You are bgagent."}],
    "messages": [
        {"role": "user", "content": "fix bug 0"},
        {"role": "assistant", "content": [{"type": "text", "text": "Looking."},
                                          {"type": "tool_use", "id": "tu1", "name": "bash",
                                           "input": {"command": "cat app.py"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu1",
                                      "content": [{"type": "text",
                                                   "text": "token=ghp_abcdefghijklmnopqrstuvwxyz0123456789"}]}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Done."}]}],
}


async def test_rollouts_in_anthropic_and_openai_format(gw):
    async with gw.client("alice") as c:
        eval_id = (await c.post("/v1/evals", json=body(2))).json()["data"]["eval_id"]
        solved, failed = attempts_of(gw, eval_id)
        await gw.deps.attachments.put(f"trajectories/{solved.task_id}.json", json.dumps(TRAJECTORY).encode(),
                                      "application/json")
        await driver(gw).count(await finish(gw.tasks, solved.task_id, cost=0.2, prompt_version="p7"))
        await driver(gw).count(await finish(gw.tasks, failed.task_id, grade=None, status=S.FAILED,
                                            error_code="BUDGET_EXCEEDED"))
        resp = await c.get(f"/v1/evals/{eval_id}/rollouts")
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(x) for x in resp.text.splitlines()]
        openai = [json.loads(x) for x in (await c.get(f"/v1/evals/{eval_id}/rollouts",
                                                      params={"format": "openai"})).text.splitlines()]
    first, second = lines
    assert (first["case_id"], first["attempt"], first["task_id"], first["reward"]) == ("case-0", 1, solved.task_id, 1)
    assert first["engine"] == "native" and first["prompt_version"] == "p7" and first["cost_usd"] == 0.2
    assert first["system"] == TRAJECTORY["system"] and len(first["messages"]) == 4
    assert "ghp_abcdefghijklmnopqrstuvwxyz0123456789" not in resp.text  # redacted
    assert (second["reward"], second["classification"], second["messages"]) == (0, "BUDGET_EXCEEDED", [])
    roles = [m["role"] for m in openai[0]["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "assistant"]
    call = openai[0]["messages"][2]["tool_calls"][0]
    assert call["id"] == "tu1" and call["function"]["name"] == "bash"
    assert json.loads(call["function"]["arguments"]) == {"command": "cat app.py"}
    assert openai[0]["messages"][3]["tool_call_id"] == "tu1"
    assert openai[0]["messages"][0]["content"] == "You are bgagent."


async def test_a_base_the_repository_lacks_is_400_naming_the_case(gw):
    git = FakeGitHost()
    git.commits["acme/app"] = {BASE + "0" * 32, "abcdef0" + "1" * 33}
    gw.deps.git = git
    async with gw.client("alice") as c:
        resp = await c.post("/v1/evals", json={"name": "n", "cases": [case(0), case(1, base="abcdef0"),
                                                                      case(2, base="1234567")]})
        assert resp.status_code == 400, resp.text
        details = {d["field"]: d["message"] for d in resp.json()["error"]["details"]}
        assert details == {"cases.2.base": 'case "case-2": acme/app has no commit 1234567'}
        assert gw.deps.evals.runs == {}
        git.down = True  # a host that cannot tell now: the attempts' hydration checks instead
        assert (await c.post("/v1/evals", json={"name": "n", "cases": [case(2, base="1234567")]})).status_code == 201


class TasksDown(InMemoryTaskStore):
    """The tasks table refusing writes for a while."""

    down = True

    async def create(self, task, *, announce=()):
        if self.down:
            raise StoreUnavailable("transact_write_items: ServiceUnavailable")
        return await super().create(task, announce=announce)


async def test_a_run_whose_first_attempts_cannot_start_is_created_and_started_by_the_next_repair(gw):
    gw.deps.tasks = TasksDown()
    async with gw.client("alice") as c:
        resp = await c.post("/v1/evals", json=body(2))
        assert resp.status_code == 201, resp.text
        eval_id = resp.json()["data"]["eval_id"]
    assert gw.tasks.tasks == {}
    gw.tasks.down = False
    await driver(gw).repair_all()
    assert sorted(t.case_id for t in gw.tasks.tasks.values()) == ["case-0", "case-1"]
    assert all(t.eval_id == eval_id for t in gw.tasks.tasks.values())

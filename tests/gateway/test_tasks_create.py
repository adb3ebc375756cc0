"""POST /v1/tasks: the body and its limits, onboarding, and the Idempotency-Key contract."""

from __future__ import annotations

import asyncio

import pytest

from shared.events.models import TaskSubmitted
from shared.repos.models import RepoConfig
from shared.tasks.states import TaskStatus
from tests.fakes.collaborators import InMemoryRepos
from tests.gateway.conftest import build_gateway

CREATE = {"repo": "acme/app", "task_description": "Add a CONTRIBUTING.md"}


async def test_create_answers_201_with_the_submitted_task_and_announces_it(gw):
    async with gw.client("alice") as c:
        resp = await c.post("/v1/tasks", json={**CREATE, "issue_number": 7, "max_turns": 20,
                                               "max_budget_usd": 2.5, "model_id": "claude-opus-5-5"})
    assert resp.status_code == 201
    task = resp.json()["data"]
    assert task["status"] == "SUBMITTED" and task["repo"] == "acme/app" and task["issue_number"] == 7
    assert task["max_turns"] == 20 and task["max_budget_usd"] == 2.5 and task["channel_source"] == "api"
    assert task["branch_name"].startswith(f"bgagent/{task['task_id']}/add-a-contributing-md")
    assert resp.headers["location"] == f"/v1/tasks/{task['task_id']}"
    assert [e.task_id for e in gw.bus.of(TaskSubmitted)] == [task["task_id"]]
    assert (await gw.tasks.get(task["task_id"])).user_id == "alice"


@pytest.mark.parametrize("body, field", [
    ({"repo": "acme/app"}, "body"),
    ({"task_description": "x"}, "repo"),
    ({"repo": "not a repo", "task_description": "x"}, "repo"),
    ({**CREATE, "task_description": "x" * 10_001}, "task_description"),
    ({**CREATE, "max_turns": 0}, "max_turns"),
    ({**CREATE, "max_turns": 501}, "max_turns"),
    ({**CREATE, "max_budget_usd": 0.001}, "max_budget_usd"),
    ({**CREATE, "max_budget_usd": 100.01}, "max_budget_usd"),
    ({**CREATE, "issue_number": 0}, "issue_number"),
    ({**CREATE, "surprise": True}, "surprise"),
])
async def test_invalid_bodies_are_400_validation_error_naming_the_field(gw, body, field):
    async with gw.client("alice") as c:
        resp = await c.post("/v1/tasks", json=body)
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["request_id"] == resp.headers["x-request-id"]
    assert any(d["field"] == field for d in error["details"]), error["details"]
    assert gw.tasks.tasks == {}


async def test_the_limits_themselves_are_accepted(gw):
    async with gw.client("alice") as c:
        resp = await c.post("/v1/tasks", json={**CREATE, "task_description": "x" * 10_000, "max_turns": 500,
                                               "max_budget_usd": 100})
        assert resp.status_code == 201
        resp = await c.post("/v1/tasks", json={"repo": "acme/app", "issue_number": 1, "max_turns": 1,
                                               "max_budget_usd": 0.01})
        assert resp.status_code == 201


@pytest.mark.parametrize("repo", ["acme/unknown", "acme/gone"])
async def test_unknown_or_removed_repos_are_422_repo_not_onboarded(gw, repo):
    async with gw.client("alice") as c:
        resp = await c.post("/v1/tasks", json={**CREATE, "repo": repo})
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "REPO_NOT_ONBOARDED"
    assert gw.tasks.tasks == {} and gw.bus.published == []


async def test_same_user_same_key_replays_the_current_task(gw):
    async with gw.client("alice", **{"Idempotency-Key": "k-1"}) as c:
        first = await c.post("/v1/tasks", json=CREATE)
        task_id = first.json()["data"]["task_id"]
        await gw.tasks.transition(task_id, TaskStatus.QUEUED)
        again = await c.post("/v1/tasks", json=CREATE)
    assert first.status_code == 201 and "idempotent-replay" not in first.headers
    assert again.status_code == 200 and again.headers["idempotent-replay"] == "true"
    assert again.json()["data"]["task_id"] == task_id and again.json()["data"]["status"] == "QUEUED"
    assert len(gw.tasks.tasks) == 1 and len(gw.bus.of(TaskSubmitted)) == 1


async def test_another_users_key_is_409_duplicate_task(gw):
    async with gw.client("alice", **{"Idempotency-Key": "shared-key"}) as c:
        assert (await c.post("/v1/tasks", json=CREATE)).status_code == 201
    async with gw.client("bob", **{"Idempotency-Key": "shared-key"}) as c:
        resp = await c.post("/v1/tasks", json=CREATE)
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "DUPLICATE_TASK"
    assert "alice" not in resp.text
    assert len(gw.tasks.tasks) == 1


async def test_ten_concurrent_identical_requests_make_exactly_one_task(gw):
    async with gw.client("alice", **{"Idempotency-Key": "race"}) as c:
        responses = await asyncio.gather(*[c.post("/v1/tasks", json=CREATE) for _ in range(10)])
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]
    assert len({r.json()["data"]["task_id"] for r in responses}) == 1
    assert len(gw.tasks.tasks) == 1 and len(gw.bus.of(TaskSubmitted)) == 1


@pytest.mark.parametrize("key", ["", "x" * 129, "has space", "ünïcode"])
async def test_malformed_idempotency_keys_are_400(gw, key):
    async with gw.client("alice") as c:
        resp = await c.post("/v1/tasks", json=CREATE, headers={"Idempotency-Key": key.encode()})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_a_repo_onboarded_later_is_accepted(gw):
    async with gw.client("alice") as c:
        assert (await c.post("/v1/tasks", json={**CREATE, "repo": "acme/later"})).status_code == 422
        await gw.deps.repos.put(RepoConfig(repo="acme/later"))
        assert (await c.post("/v1/tasks", json={**CREATE, "repo": "acme/later"})).status_code == 201


async def test_an_issue_number_on_a_local_repository_is_refused_at_once(issuer):
    gw = build_gateway(issuer, repos=InMemoryRepos(RepoConfig(repo="me/demo", local_path="/srv/demo")))
    async with gw.client("alice", check=False) as c:
        refused = await c.post("/v1/tasks", json={"repo": "me/demo", "issue_number": 3})
        accepted = await c.post("/v1/tasks", json={"repo": "me/demo", "task_description": "x"})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "local repository" in refused.json()["error"]["message"] and accepted.status_code == 201

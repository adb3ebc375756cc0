"""The engine of a task: its own, else its repository's, else the platform's; unknown names and engines this
deployment does not have are refused at create, never discovered by a run."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.gateway.bootstrap import warn_unavailable_engines
from services.gateway.settings import GatewaySettings
from shared.repos.models import RepoConfig
from tests.fakes.collaborators import InMemoryRepos
from tests.gateway.conftest import GITHUB_SECRET, build_gateway
from tests.gateway.signing import issue_labeled, signed_github, signed_webhook

CREATE = {"repo": "acme/app", "task_description": "Add a CONTRIBUTING.md"}
BOTH = ["native", "claude-code"]  # an agent image with both engines (BGAGENT_AGENT_ENGINES)


def _gateway(issuer, repo_engine: str | None = None, **settings):
    repos = InMemoryRepos(RepoConfig(repo="acme/app", engine=repo_engine))
    return build_gateway(issuer, repos=repos, **{"agent_engines": BOTH, **settings})


async def _create(gw, **body):
    async with gw.client("alice") as c:
        return await c.post("/v1/tasks", json={**CREATE, **body})


async def _engine_of(gw, **body) -> str:
    resp = await _create(gw, **body)
    assert resp.status_code == 201, resp.text
    task_id = resp.json()["data"]["task_id"]
    async with gw.client("alice") as c:
        shown = (await c.get(f"/v1/tasks/{task_id}")).json()["data"]["engine"]
    assert (await gw.tasks.get(task_id)).engine == shown
    return shown


async def test_a_task_without_an_engine_runs_native_even_where_claude_code_is_installed(issuer):
    assert await _engine_of(_gateway(issuer)) == "native"


@pytest.mark.parametrize("task, repo, platform, expected", [
    ("claude-code", None, "native", "claude-code"),
    ("native", "claude-code", "claude-code", "native"),
    (None, "claude-code", "native", "claude-code"),
    (None, None, "claude-code", "claude-code"),
])
async def test_the_task_wins_over_the_repo_which_wins_over_the_platform(issuer, task, repo, platform, expected):
    gw = _gateway(issuer, repo, default_engine=platform)
    assert await _engine_of(gw, **({"engine": task} if task else {})) == expected


@pytest.mark.parametrize("name", ["gpt-engineer", "oracle", "Claude-Code", ""])
async def test_an_unknown_engine_or_the_evaluation_only_oracle_is_400_naming_the_choices(issuer, name):
    gw = _gateway(issuer)
    resp = await _create(gw, engine=name)
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["details"][0]["field"] == "engine"
    assert "native, claude-code" in error["details"][0]["message"] and "oracle" not in error["details"][0]["message"]
    assert gw.tasks.tasks == {}


@pytest.mark.parametrize("task, repo, platform", [
    ("claude-code", None, "native"), (None, "claude-code", "native"), (None, None, "claude-code")])
async def test_an_engine_the_deployment_lacks_is_refused_at_create_with_the_install_command(
        issuer, task, repo, platform):
    gw = _gateway(issuer, repo, default_engine=platform, agent_engines=["native"])
    resp = await _create(gw, **({"engine": task} if task else {}))
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["code"] == "ENGINE_UNAVAILABLE" and error["details"][0]["field"] == "engine"
    assert "pip install 'bgagent[claude-code]'" in error["message"]
    assert gw.tasks.tasks == {} and gw.bus.published == []


async def test_without_a_stated_agent_image_the_engines_of_this_python_count(issuer):
    # The embedded stack: agents run in the stack's own Python, which has the claude-code extra in tests.
    assert await _engine_of(_gateway(issuer, agent_engines=None), engine="claude-code") == "claude-code"


def test_the_platform_default_is_native_and_only_a_task_engine_may_replace_it():
    assert GatewaySettings(stack_name="gwtest").default_engine == "native"
    assert GatewaySettings(stack_name="gwtest", default_engine="claude-code").default_engine == "claude-code"
    with pytest.raises(ValidationError, match="native, claude-code"):
        GatewaySettings(stack_name="gwtest", default_engine="oracle")


async def test_a_schedule_carries_its_engine_and_is_refused_when_the_deployment_lacks_it(issuer):
    body = {"name": "nightly", "cron": "0 3 * * *", **CREATE, "engine": "claude-code"}
    async with _gateway(issuer).client("alice") as c:
        created = await c.post("/v1/schedules", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["data"]["engine"] == "claude-code"
    async with _gateway(issuer, agent_engines=["native"]).client("alice") as c:
        refused = await c.post("/v1/schedules", json=body)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "ENGINE_UNAVAILABLE"


async def test_a_signed_webhook_carries_the_engine(issuer):
    gw = _gateway(issuer)
    async with gw.client("alice") as c:
        hook = (await c.post("/v1/webhooks", json={"name": "ci"})).json()["data"]
    raw, headers = signed_webhook(hook["webhook_id"], hook["secret"], {**CREATE, "engine": "claude-code"})
    async with gw.client() as c:
        resp = await c.post("/v1/webhooks/tasks", content=raw, headers=headers)
    assert resp.status_code == 201, resp.text
    assert (await gw.tasks.get(resp.json()["data"]["task_id"])).engine == "claude-code"


async def test_the_start_up_check_names_a_missing_default_engine_and_each_repo_needing_one(issuer, caplog):
    repos = InMemoryRepos(RepoConfig(repo="acme/cc", engine="claude-code"), RepoConfig(repo="acme/plain"),
                          RepoConfig(repo="acme/gone", engine="claude-code", status="removed"))
    gw = build_gateway(issuer, repos=repos, default_engine="claude-code", agent_engines=["native"])
    with caplog.at_level("WARNING", logger="services.gateway.bootstrap"):
        notices = await warn_unavailable_engines(gw.deps)
    assert [n.split(":")[0] for n in notices] == ["the default engine", "repository acme/cc"]
    assert all("bgagent[claude-code]" in n for n in notices)
    assert [r.getMessage() for r in caplog.records] == notices
    assert await warn_unavailable_engines(_gateway(issuer, "claude-code").deps) == []


async def test_a_schedule_changed_to_an_engine_the_deployment_lacks_is_refused(issuer):
    gw = _gateway(issuer, agent_engines=["native"])
    async with gw.client("alice") as c:
        sid = (await c.post("/v1/schedules", json={"name": "n", "cron": "0 3 * * *", **CREATE})).json()["data"][
            "schedule_id"]
        changed = await c.patch(f"/v1/schedules/{sid}", json={"engine": "claude-code"})
        assert changed.status_code == 400 and changed.json()["error"]["code"] == "ENGINE_UNAVAILABLE"
        assert (await c.get(f"/v1/schedules/{sid}")).json()["data"]["engine"] is None


async def test_a_github_event_whose_repo_engine_is_missing_is_acknowledged_and_ignored_saying_why(issuer):
    gw = _gateway(issuer, "claude-code", agent_engines=["native"])
    raw, headers = signed_github(GITHUB_SECRET, "issues", issue_labeled(), "guid-engine")
    async with gw.client() as c:
        resp = await c.post("/v1/github/events", content=raw, headers=headers)
    assert resp.status_code == 200 and resp.json()["data"]["ignored"] is True
    assert "bgagent[claude-code]" in resp.json()["data"]["reason"] and gw.tasks.tasks == {}

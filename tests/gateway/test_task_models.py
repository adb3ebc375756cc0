"""POST /v1/tasks and the model catalog: unknown models and models past their end of life are refused,
models near it are accepted with a warning the task keeps."""

from __future__ import annotations

from datetime import date

import pytest

from services.gateway.bootstrap import warn_deprecated_models
from shared.llm.catalog import DEFAULT_MODEL_ID
from shared.llm.prices import ModelPrice
from shared.repos.models import RepoConfig
from shared.tasks.states import TaskStatus
from tests.fakes.collaborators import InMemoryRepos
from tests.gateway.conftest import build_gateway

CREATE = {"repo": "acme/app", "task_description": "Add a CONTRIBUTING.md"}
# claude-opus-4-5 ends on 2027-01-22 (the SDK's deprecation table and the catalog agree).
NEAR_EOL = date(2027, 1, 1)


async def _create(gw, **body):
    async with gw.client("alice") as c:
        return await c.post("/v1/tasks", json={**CREATE, **body})


def _refusal(resp) -> str:
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["details"][0]["field"] == "model_id"
    return error["message"]


async def test_an_unknown_model_is_refused_and_no_task_is_created(gw):
    message = _refusal(await _create(gw, model_id="claude-imaginary-9"))
    assert message.startswith("unknown model 'claude-imaginary-9'")
    assert gw.tasks.tasks == {} and gw.bus.published == []


@pytest.mark.parametrize("model_id, replacement", [("claude-sonnet-4-5", "claude-sonnet-5-5"),
                                                    ("claude-mythos-preview", "claude-mythos-5-1")])
async def test_a_model_past_its_end_of_life_is_refused_naming_a_replacement(gw, model_id, replacement):
    message = _refusal(await _create(gw, model_id=model_id))
    assert "reached its end of life" in message and f"use '{replacement}' instead" in message
    assert gw.tasks.tasks == {}


async def test_a_model_within_30_days_of_its_end_is_accepted_with_a_warning_kept_on_the_task(gw):
    gw.deps.today = lambda: NEAR_EOL
    resp = await _create(gw, model_id="claude-opus-4-5")
    assert resp.status_code == 201
    task = resp.json()["data"]
    assert task["warnings"] == ["model 'claude-opus-4-5' reaches its end of life on 2027-01-22 (21 days); "
                                "move to 'claude-opus-5-5' before then"]
    async with gw.client("alice") as c:
        shown = (await c.get(f"/v1/tasks/{task['task_id']}")).json()["data"]
        events = (await c.get(f"/v1/tasks/{task['task_id']}/events")).json()["data"]
    assert shown["warnings"] == task["warnings"]
    warned = [e for e in events if e["event_type"] == "model.deprecated"]
    assert [e["metadata"]["warnings"] for e in warned] == [task["warnings"]]


async def test_the_same_model_further_from_its_end_has_no_warning(gw):
    gw.deps.today = lambda: date(2026, 12, 1)
    resp = await _create(gw, model_id="claude-opus-4-5")
    assert resp.status_code == 201 and resp.json()["data"]["warnings"] is None


async def test_the_day_of_the_end_of_life_is_already_refused(gw):
    gw.deps.today = lambda: date(2027, 1, 22)
    assert "reached its end of life on 2027-01-22" in _refusal(await _create(gw, model_id="claude-opus-4-5"))


async def test_without_a_model_the_repos_model_is_checked(issuer):
    repos = InMemoryRepos(RepoConfig(repo="acme/app", model_id="claude-sonnet-4-5"))
    gw = build_gateway(issuer, repos=repos)
    assert "use 'claude-sonnet-5-5' instead" in _refusal(await _create(gw))


async def test_without_any_model_the_platform_default_is_checked(issuer):
    assert (await _create(build_gateway(issuer))).status_code == 201
    retired_default = build_gateway(issuer, default_model_id="claude-sonnet-4-5")
    assert "claude-sonnet-4-5" in _refusal(await _create(retired_default))
    assert build_gateway(issuer).deps.settings.default_model_id == DEFAULT_MODEL_ID


async def test_operator_prices_in_settings_or_repo_config_admit_a_model_outside_the_catalog(issuer):
    repos = InMemoryRepos(RepoConfig(repo="acme/app", model_prices={"acme-ft": ModelPrice(input=2, output=8)}),
                          RepoConfig(repo="acme/other"))
    gw = build_gateway(issuer, repos=repos, model_prices={"house": ModelPrice(input=1, output=3)})
    for model in ("acme-ft", "house"):
        resp = await _create(gw, model_id=model)
        assert resp.status_code == 201 and resp.json()["data"]["model_id"] == model
        assert (await gw.tasks.get(resp.json()["data"]["task_id"])).status == TaskStatus.SUBMITTED
    # A repository's prices are its own: another repo cannot use them.
    assert "unknown model 'acme-ft'" in _refusal(await _create(gw, repo="acme/other", model_id="acme-ft"))


async def test_the_start_up_check_names_a_deprecated_default_and_each_deprecated_repo_model(issuer, caplog):
    repos = InMemoryRepos(RepoConfig(repo="acme/old", model_id="claude-sonnet-4-5"),
                          RepoConfig(repo="acme/new", model_id=DEFAULT_MODEL_ID),
                          RepoConfig(repo="acme/gone", model_id="claude-sonnet-4-5", status="removed"))
    gw = build_gateway(issuer, repos=repos, default_model_id="claude-opus-4-5")
    with caplog.at_level("WARNING", logger="services.gateway.bootstrap"):
        notices = await warn_deprecated_models(gw.deps)
    assert [n.split(":")[0] for n in notices] == ["the default model", "repository acme/old"]
    assert [r.getMessage() for r in caplog.records] == notices
    assert await warn_deprecated_models(build_gateway(issuer).deps) == []

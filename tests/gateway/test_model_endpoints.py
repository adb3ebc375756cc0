"""Model endpoints over the API: operators only, the key's value never stored or shown, tasks and runs name them."""

from __future__ import annotations

import pytest

from shared.llm.endpoints import ModelEndpoint
from tests.gateway.conftest import build_gateway

ENDPOINT = {"name": "my-rl", "base_url": "https://rl.example.com/", "key_secret": "bgagent/gwtest/endpoints/my-rl",
            "price": {"input": 1.0, "output": 5.0}}


@pytest.fixture
def gw(issuer):
    return build_gateway(issuer, admin_users="ops, root")


async def test_an_operator_registers_lists_and_removes_an_endpoint(gw):
    async with gw.client("ops") as c:
        created = await c.post("/v1/model-endpoints", json=ENDPOINT)
        assert created.status_code == 201, created.text
        e = created.json()["data"]
        assert (e["name"], e["base_url"], e["created_by"]) == ("my-rl", "https://rl.example.com", "ops")
        assert e["price"]["input"] == 1.0 and created.headers["location"] == "/v1/model-endpoints/my-rl"
        again = await c.post("/v1/model-endpoints", json=ENDPOINT)
        assert again.status_code == 409 and again.json()["error"]["code"] == "MODEL_ENDPOINT_EXISTS"
    async with gw.client("alice") as c:  # anyone may see which endpoints exist
        assert [x["name"] for x in (await c.get("/v1/model-endpoints")).json()["data"]] == ["my-rl"]
    async with gw.client("ops") as c:
        assert (await c.delete("/v1/model-endpoints/my-rl")).json()["data"]["name"] == "my-rl"
        gone = await c.delete("/v1/model-endpoints/my-rl")
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "MODEL_ENDPOINT_NOT_FOUND"


async def test_only_operators_change_endpoints(gw):
    await gw.deps.model_endpoints.create(ModelEndpoint(name="kept", base_url="https://x.example",
                                                       key_secret="bgagent/gwtest/endpoints/k", created_by="ops"))
    async with gw.client("alice") as c:
        for resp in (await c.post("/v1/model-endpoints", json=ENDPOINT), await c.delete("/v1/model-endpoints/kept")):
            assert resp.status_code == 403 and resp.json()["error"]["code"] == "FORBIDDEN"
    token = gw.token("carol", **{"cognito:groups": ["bgagent-admins"]})
    async with gw.client(Authorization=f"Bearer {token}") as c:
        assert (await c.post("/v1/model-endpoints", json=ENDPOINT)).status_code == 201
    assert await gw.deps.model_endpoints.get("kept") is not None


@pytest.mark.parametrize("change, field", [
    ({"base_url": "http://rl.example.com"}, "base_url"), ({"base_url": "https://u:p@rl.example.com"}, "base_url"),
    ({"key_secret": "bgagent/other/endpoints/x"}, "key_secret"), ({"key_secret": "bgagent/gwtest/github/x"},
                                                                    "key_secret"),
    ({"name": "Not OK"}, "name"), ({"price": {"input": 0, "output": 1}}, "price.input"), ({"key": "sk-1"}, "key"),
])
async def test_bad_endpoints_are_400_naming_the_field(gw, change, field):
    async with gw.client("ops") as c:
        resp = await c.post("/v1/model-endpoints", json={**ENDPOINT, **change})
    assert resp.status_code == 400 and field in {d["field"] for d in resp.json()["error"]["details"]}, resp.text
    assert await gw.deps.model_endpoints.list() == []


async def test_loopback_may_be_plain_http(gw):
    async with gw.client("ops") as c:
        assert (await c.post("/v1/model-endpoints", json={**ENDPOINT, "base_url": "http://127.0.0.1:9/v"})
                ).status_code == 201


async def test_tasks_and_runs_name_only_registered_endpoints(gw):
    async with gw.client("alice") as c:
        task = {"repo": "acme/app", "task_description": "x", "model_id": "my-finetune-7", "model_endpoint": "my-rl"}
        refused = await c.post("/v1/tasks", json=task)
        assert refused.status_code == 400 and refused.json()["error"]["details"][0]["field"] == "model_endpoint"
        schedule = await c.post("/v1/schedules", json={"name": "s", "cron": "0 3 * * *", **task})
        assert schedule.status_code == 400 and schedule.json()["error"]["details"][0]["field"] == "model_endpoint"
        run = {"name": "n", "model_endpoint": "my-rl", "cases": [
            {"id": "a", "repo": "acme/app", "base": "abcdef1", "task": "t", "test_patch": "p", "test_command": "c"}]}
        assert (await c.post("/v1/evals", json=run)).status_code == 400
    async with gw.client("ops") as c:
        await c.post("/v1/model-endpoints", json=ENDPOINT)
    async with gw.client("alice") as c:
        created = await c.post("/v1/tasks", json=task)  # a model the catalog does not know: the endpoint serves it
        assert created.status_code == 201, created.text
        assert created.json()["data"]["model_endpoint"] == "my-rl"
        eval_id = (await c.post("/v1/evals", json=run)).json()["data"]["eval_id"]
    (attempt,) = [t for t in gw.tasks.tasks.values() if t.eval_id == eval_id]
    assert attempt.model_endpoint == "my-rl"

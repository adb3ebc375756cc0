"""Schedules over the API: create with validation naming the field, list, read, pause/resume, delete, owner only."""

from __future__ import annotations

import pytest

BODY = {"name": "nightly deps", "cron": "0 3 * * *", "timezone": "Europe/Paris", "repo": "acme/app",
        "task_description": "update the dependencies", "max_turns": 20}


async def test_create_read_list_and_delete(gw):
    async with gw.client("alice") as c:
        created = await c.post("/v1/schedules", json=BODY)
        assert created.status_code == 201, created.text
        s = created.json()["data"]
        assert s["cron"] == "0 3 * * *" and s["timezone"] == "Europe/Paris" and s["overlap"] == "skip"
        assert s["repo"] == "acme/app" and s["max_turns"] == 20 and not s["paused"] and s["runs"] == 0
        assert s["next_run_at"].endswith(("T02:00:00.000Z", "T01:00:00.000Z"))  # 03:00 Paris, winter or summer
        assert (await c.get(f"/v1/schedules/{s['schedule_id']}")).json()["data"] == s
        assert [x["schedule_id"] for x in (await c.get("/v1/schedules")).json()["data"]] == [s["schedule_id"]]
        deleted = await c.delete(f"/v1/schedules/{s['schedule_id']}")
        assert deleted.status_code == 200
        assert (await c.get(f"/v1/schedules/{s['schedule_id']}")).status_code == 404
        assert (await c.delete(f"/v1/schedules/{s['schedule_id']}")).status_code == 404


async def test_pause_and_resume(gw):
    async with gw.client("alice") as c:
        sid = (await c.post("/v1/schedules", json={**BODY, "rate": "rate(2 hours)", "cron": None}
                            if False else {**{k: v for k, v in BODY.items() if k != "cron"},
                                           "rate": "rate(2 hours)"})).json()["data"]["schedule_id"]
        paused = (await c.patch(f"/v1/schedules/{sid}", json={"paused": True})).json()["data"]
        assert paused["paused"] and paused["next_run_at"] is None
        assert await gw.deps.schedules.due("2100-01-01T00:00:00.000Z") == []
        resumed = (await c.patch(f"/v1/schedules/{sid}", json={"paused": False})).json()["data"]
        assert not resumed["paused"] and resumed["next_run_at"] and resumed["paused_reason"] is None
        changed = (await c.patch(f"/v1/schedules/{sid}", json={"cron": "*/5 * * * *", "max_turns": 3})).json()["data"]
        assert changed["cron"] == "*/5 * * * *" and changed["rate"] is None and changed["max_turns"] == 3
        assert changed["task_description"] == BODY["task_description"]


@pytest.mark.parametrize("change, field", [
    ({"cron": "61 * * * *"}, "cron"), ({"cron": "* * * *"}, "cron"),
    ({"cron": None, "rate": "rate(0 minutes)"}, "rate"),
    ({"timezone": "Mars/Olympus"}, "timezone"), ({"max_turns": 0}, "max_turns"), ({"overlap": "sometimes"}, "overlap"),
    ({"name": ""}, "name"), ({"repo": "not a repo"}, "repo"), ({"surprise": 1}, "surprise"),
])
async def test_invalid_bodies_are_400_naming_the_field(gw, change, field):
    body = {k: v for k, v in {**BODY, **change}.items() if v is not None}
    async with gw.client("alice") as c:
        resp = await c.post("/v1/schedules", json=body)
    assert resp.status_code == 400, resp.text
    err = resp.json()["error"]
    assert err["code"] == "VALIDATION_ERROR" and field in {d["field"] for d in err["details"]}
    assert gw.deps.schedules.rows == {}


@pytest.mark.parametrize("change", [{"rate": "rate(1 hour)"}, {"cron": None}, {"task_description": None}])
async def test_expression_and_task_are_required_once(gw, change):
    body = {k: v for k, v in {**BODY, **change}.items() if v is not None}
    async with gw.client("alice") as c:
        resp = await c.post("/v1/schedules", json=body)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_repo_must_be_onboarded(gw):
    async with gw.client("alice") as c:
        resp = await c.post("/v1/schedules", json={**BODY, "repo": "acme/gone"})
        assert resp.status_code == 422 and resp.json()["error"]["code"] == "REPO_NOT_ONBOARDED"
        sid = (await c.post("/v1/schedules", json=BODY)).json()["data"]["schedule_id"]
        moved = await c.patch(f"/v1/schedules/{sid}", json={"repo": "acme/gone"})
        assert moved.status_code == 422


async def test_other_users_schedules_answer_like_missing_ones(gw):
    async with gw.client("alice") as c:
        sid = (await c.post("/v1/schedules", json=BODY)).json()["data"]["schedule_id"]
    async with gw.client("mallory") as c:
        for resp in (await c.get(f"/v1/schedules/{sid}"), await c.patch(f"/v1/schedules/{sid}", json={"paused": True}),
                     await c.delete(f"/v1/schedules/{sid}")):
            assert resp.status_code == 404 and resp.json()["error"]["code"] == "SCHEDULE_NOT_FOUND"
        assert (await c.get("/v1/schedules")).json()["data"] == []
    assert not gw.deps.schedules.rows[sid].paused


async def test_null_fields_in_a_patch_are_refused(gw):
    async with gw.client("alice") as c:
        sid = (await c.post("/v1/schedules", json=BODY)).json()["data"]["schedule_id"]
        resp = await c.patch(f"/v1/schedules/{sid}", json={"name": None})
    assert resp.status_code == 400


async def test_an_unknown_model_is_refused_for_a_schedule_as_for_a_task(gw):
    async with gw.client("alice") as c:
        resp = await c.post("/v1/schedules", json={**BODY, "model_id": "claude-imaginary-9"})
    assert resp.status_code == 400 and "unknown model" in resp.json()["error"]["message"]
    assert gw.deps.schedules.rows == {}

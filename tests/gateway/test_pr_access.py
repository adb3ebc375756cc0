"""Who may iterate on or review a pull request: the user whose task opened it, unless the repo allows any user."""

from __future__ import annotations

from shared.pull_outcomes.models import PullOpener
from shared.repos.models import RepoConfig
from tests.fakes.collaborators import InMemoryPullOutcomes, InMemoryRepos
from tests.gateway.conftest import build_gateway
from tests.gateway.signing import signed_webhook
from tests.ui.conftest import browser, csrf_of

ALICES_PR = PullOpener(repo="acme/app", pr_number=7, user_id="alice", task_id="t-alice")
SCHEDULE = {"name": "weekly polish", "rate": "rate(7 days)", "repo": "acme/app", "task_type": "pr_iteration",
            "pr_number": 7}


def _gateway(issuer, pr_tasks: str = "owner"):
    repos = InMemoryRepos(RepoConfig(repo="acme/app", pr_tasks=pr_tasks))
    return build_gateway(issuer, repos=repos, pull_outcomes=InMemoryPullOutcomes(ALICES_PR))


async def test_another_users_iteration_or_review_is_refused_with_403_pr_not_yours(issuer):
    gw = _gateway(issuer)
    async with gw.client("bob") as c:
        for body in ({"pr_number": 7}, {"task_type": "pr_review", "pr_number": 7}, {"pr_number": 8}):
            resp = await c.post("/v1/tasks", json={"repo": "acme/app", **body})
            assert resp.status_code == 403, resp.text
            error = resp.json()["error"]
            assert error["code"] == "PR_NOT_YOURS" and error["details"][0]["field"] == "pr_number"
    assert (await gw.tasks.list_for_user("bob"))[0] == []


async def test_the_opener_may_iterate_and_review(issuer):
    gw = _gateway(issuer)
    async with gw.client("alice") as c:
        for body in ({"pr_number": 7}, {"task_type": "pr_review", "pr_number": 7}):
            resp = await c.post("/v1/tasks", json={"repo": "acme/app", **body})
            assert resp.status_code == 201, resp.text
        human = await c.post("/v1/tasks", json={"repo": "acme/app", "pr_number": 8})  # no record: nobody's
        assert human.status_code == 403


async def test_a_repo_with_pr_tasks_any_user_accepts_anyones_pr_task(issuer):
    gw = _gateway(issuer, pr_tasks="any_user")
    async with gw.client("bob") as c:
        for number in (7, 8):
            resp = await c.post("/v1/tasks", json={"repo": "acme/app", "pr_number": number})
            assert resp.status_code == 201, resp.text


async def test_a_schedule_on_another_users_pr_is_refused_at_creation_and_edit(issuer):
    gw = _gateway(issuer)
    async with gw.client("bob") as c:
        refused = await c.post("/v1/schedules", json=SCHEDULE)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "PR_NOT_YOURS"
        own = await c.post("/v1/schedules", json={**SCHEDULE, "task_type": None, "pr_number": None,
                                                  "task_description": "tidy up"})
        assert own.status_code == 201, own.text
        edited = await c.patch(f"/v1/schedules/{own.json()['data']['schedule_id']}",
                               json={"task_type": "pr_iteration", "pr_number": 7})
        assert edited.status_code == 403 and edited.json()["error"]["code"] == "PR_NOT_YOURS"
    async with gw.client("alice") as c:
        assert (await c.post("/v1/schedules", json=SCHEDULE)).status_code == 201


async def test_a_signed_webhook_keeps_the_rule(issuer):
    gw = _gateway(issuer)
    async with gw.client("bob") as c:
        hook = (await c.post("/v1/webhooks", json={"name": "ci"})).json()["data"]
    raw, headers = signed_webhook(hook["webhook_id"], hook["secret"], {"repo": "acme/app", "pr_number": 7})
    async with gw.client() as c:
        resp = await c.post("/v1/webhooks/tasks", content=raw, headers=headers)
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "PR_NOT_YOURS"


async def test_the_panel_marks_the_pull_request_field(issuer):
    gw = _gateway(issuer)
    async with browser(gw, "bob") as b:
        csrf = csrf_of((await b.get("/ui/submit")).text)
        resp = await b.post("/ui/submit", data={"csrf_token": csrf, "repo": "acme/app", "task_type": "pr_iteration",
                                                "pr_number": "7"})
    assert resp.status_code == 403
    assert 'id="error-pr_number"' in resp.text and "not opened by one of your tasks" in resp.text
    assert 'id="f-pr" name="pr_number" inputmode="numeric" value="7" aria-invalid="true"' in resp.text

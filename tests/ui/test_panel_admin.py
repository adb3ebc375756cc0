"""Webhooks, repositories and approvals in the panel."""

from __future__ import annotations

import re

from services.gateway.ui.steering import PendingRequest
from shared.repos.models import RepoConfig
from shared.tasks.states import TaskStatus as S
from tests.ui.conftest import browser, csrf_of


async def test_a_webhook_secret_is_shown_once_and_revoke_works(gw):
    async with browser(gw, "alice") as b:
        csrf = csrf_of((await b.get("/ui/webhooks")).text)
        created = await b.post("/ui/webhooks", data={"csrf_token": csrf, "name": "<b>ci</b>"})
        assert created.status_code == 201
        secret = re.search(r'id="webhook-secret">([^<]+)<', created.text).group(1)
        assert secret in gw.raw_secrets.values.values()
        assert "&lt;b&gt;ci&lt;/b&gt;" in created.text
        listing = (await b.get("/ui/webhooks")).text
        assert secret not in listing and "Revoke" in listing
        hook_id = re.search(r"/ui/webhooks/([0-9A-Z]{26})/revoke", listing).group(1)
        revoked = await b.post(f"/ui/webhooks/{hook_id}/revoke", data={"csrf_token": csrf})
        assert revoked.status_code == 303
        assert (await gw.deps.webhooks.get(hook_id)).status == "revoked"
        twice = await b.post(f"/ui/webhooks/{hook_id}/revoke", data={"csrf_token": csrf})
        assert twice.status_code == 409
        nameless = await b.post("/ui/webhooks", data={"csrf_token": csrf, "name": ""})
        assert nameless.status_code == 400 and "1 to 100 characters" in nameless.text
    async with browser(gw, "bob") as other:
        csrf = csrf_of((await other.get("/ui/webhooks")).text)
        assert (await other.post(f"/ui/webhooks/{hook_id}/revoke", data={"csrf_token": csrf})).status_code == 404


async def test_repositories_are_listed_with_their_config(gw):
    await gw.deps.repos.put(RepoConfig(repo="acme/tools", test_command="pytest -q", max_turns=30,
                                       egress_allowlist=["pypi.org"]))
    async with browser(gw, "alice") as b:
        html = (await b.get("/ui/repos")).text
    assert "acme/tools" in html and "pytest -q" in html and "pypi.org" in html and "<form" not in html.split("<main")[1]


class FakeSteering:
    available = True

    def __init__(self) -> None:
        self.decisions: list[tuple[str, str, str, bool]] = []
        self.nudges: list[tuple[str, str, str]] = []

    async def pending(self, user_id: str) -> list[PendingRequest]:
        return [PendingRequest("T1", "R1", "acme/app", "rm -rf build", "2026-01-01T00:00:00Z")] \
            if user_id == "alice" else []

    async def decide(self, user_id: str, task_id: str, request_id: str, *, approve: bool) -> None:
        self.decisions.append((user_id, task_id, request_id, approve))

    async def nudge(self, user_id: str, task_id: str, message: str) -> None:
        self.nudges.append((user_id, task_id, message))


async def test_approvals_say_when_steering_is_not_installed(gw):
    async with browser(gw, "alice") as b:
        html = (await b.get("/ui/approvals")).text
    assert "does not take approval requests yet" in html and "Approve" not in html


async def test_approvals_and_nudges_go_through_the_steering_adapter(gw):
    from shared.tasks.models import Task

    steering = gw.deps.steering = FakeSteering()
    task = await gw.tasks.create(Task.new(user_id="alice", repo="acme/app", task_description="x"))
    async with browser(gw, "alice") as b:
        page = await b.get("/ui/approvals")
        assert "rm -rf build" in page.text
        csrf = csrf_of(page.text)
        resp = await b.post("/ui/approvals/T1/R1", data={"csrf_token": csrf, "decision": "approve"})
        assert resp.status_code == 303 and steering.decisions == [("alice", "T1", "R1", True)]
        assert "Nudge the agent" not in (await b.get(f"/ui/tasks/{task.task_id}")).text  # not running yet
        await gw.tasks.transition(task.task_id, S.HYDRATING, max_active=5)
        await gw.tasks.transition(task.task_id, S.RUNNING)
        assert "Nudge the agent" in (await b.get(f"/ui/tasks/{task.task_id}")).text
        await b.post(f"/ui/tasks/{task.task_id}/nudge", data={"csrf_token": csrf, "message": "use pytest"})
        assert steering.nudges == [("alice", task.task_id, "use pytest")]

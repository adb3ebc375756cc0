"""The panel's task pages on the gateway's own functions: list, detail, submit, cancel, isolation, escaping."""

from __future__ import annotations

import re

from shared.events.models import TaskCancelled, TaskSubmitted
from shared.githost.models import PullRequest
from shared.tasks.models import Task, Tokens
from shared.tasks.states import TaskStatus as S
from tests.ui.conftest import browser, csrf_of

SCRIPT = '<script>alert("x")</script>'


async def _task(gw, user: str, description: str = "Add a notes file", **fields) -> Task:
    return await gw.tasks.create(Task.new(user_id=user, repo="acme/app", task_description=description, **fields))


async def _submit_form(b) -> str:
    return csrf_of((await b.get("/ui/submit")).text)


async def test_submitting_the_form_creates_the_task_through_the_api_rules(gw):
    async with browser(gw, "alice") as b:
        page = await b.get("/ui/submit")
        assert '<option value="acme/app"' in page.text and "acme/gone" not in page.text  # removed repos hidden
        key = re.search(r'name="form_key" value="([^"]+)"', page.text).group(1)
        form = {"csrf_token": csrf_of(page.text), "form_key": key, "repo": "acme/app",
                "task_description": "Add a notes file", "max_turns": "12", "max_budget_usd": "1.5"}
        resp = await b.post("/ui/submit", data=form)
        assert resp.status_code == 303
        task_id = resp.headers["location"].rsplit("/", 1)[1]
        again = await b.post("/ui/submit", data=form)  # a double click
        assert again.headers["location"] == resp.headers["location"]
    task = await gw.tasks.get(task_id)
    assert (task.user_id, task.max_turns, task.max_budget_usd, task.channel_source) == ("alice", 12, 1.5, "ui")
    assert len(gw.bus.of(TaskSubmitted)) == 1


async def test_validation_errors_are_shown_on_the_form_and_keep_the_input(gw):
    async with browser(gw, "alice") as b:
        csrf = await _submit_form(b)
        bad = await b.post("/ui/submit", data={"csrf_token": csrf, "repo": "acme/app", "max_turns": "999",
                                              "task_description": "Keep me"})
        assert bad.status_code == 400
        assert 'id="error-max_turns"' in bad.text and "less than or equal to 500" in bad.text
        assert 'aria-invalid="true"' in bad.text and ">Keep me</textarea>" in bad.text
        empty = await b.post("/ui/submit", data={"csrf_token": csrf, "repo": "acme/app"})
        assert empty.status_code == 400 and "give an issue_number, a task_description, or both" in empty.text
        gone = await b.post("/ui/submit", data={"csrf_token": csrf, "repo": "acme/gone", "task_description": "x"})
        assert gone.status_code == 422 and "not onboarded" in gone.text
    assert (await gw.tasks.list_for_user("alice"))[0] == []


async def test_a_refused_field_is_marked_on_the_form_like_the_api_names_it(gw):
    async with browser(gw, "alice") as b:
        csrf = await _submit_form(b)
        bad = await b.post("/ui/submit", data={"csrf_token": csrf, "repo": "acme/app", "task_description": "Keep me",
                                              "model_id": "claude-imaginary-9"})
        assert bad.status_code == 400 and bad.headers["content-type"].startswith("text/html")
        assert 'id="error-model_id"' in bad.text and "unknown model" in bad.text
        assert 'aria-invalid="true" aria-describedby="error-model_id"' in bad.text and ">Keep me</textarea>" in bad.text
    assert (await gw.tasks.list_for_user("alice"))[0] == []


async def test_a_refusal_on_a_panel_page_answers_with_a_page_not_json(gw):
    task = await _task(gw, "alice")
    await gw.tasks.transition(task.task_id, S.CANCELLED)
    async with browser(gw, "alice") as b:
        csrf = csrf_of((await b.get(f"/ui/tasks/{task.task_id}")).text)
        resp = await b.post(f"/ui/tasks/{task.task_id}/cancel", data={"csrf_token": csrf})
        assert resp.status_code == 409 and resp.headers["content-type"].startswith("text/html")
        assert "already CANCELLED" in resp.text and "Add a notes file" in resp.text  # the task's page, saying why


async def test_the_list_is_the_users_own_newest_first_with_filters(gw):
    older = await _task(gw, "alice", "Older task")
    newer = await _task(gw, "alice", "Newer task")
    await gw.tasks.transition(older.task_id, S.CANCELLED)
    await _task(gw, "bob", "Bob's task")
    async with browser(gw, "alice") as b:
        page = (await b.get("/ui/")).text
        assert page.index("Newer task") < page.index("Older task") and "Bob" not in page
        assert 'hx-trigger="every 2s"' in page  # a task is still moving: the rows poll
        only = (await b.get("/ui/tasks/rows", params={"status": "CANCELLED"})).text
        assert "Older task" in only and "Newer task" not in only and "hx-trigger" not in only
        assert newer.task_id in (await b.get("/ui/", params={"repo": "acme/app"})).text
        assert (await b.get("/ui/", params={"status": "BOGUS"})).status_code == 400


async def test_another_users_task_is_not_found_like_in_the_api(gw):
    theirs = await _task(gw, "bob")
    async with browser(gw, "alice") as b:
        for path in (f"/ui/tasks/{theirs.task_id}", f"/ui/tasks/{theirs.task_id}/live", "/ui/tasks/NOSUCHTASK"):
            resp = await b.get(path)
            assert resp.status_code == 404 and "Not found" in resp.text and "Add a notes file" not in resp.text
        csrf = csrf_of((await b.get("/ui/")).text)
        assert (await b.post(f"/ui/tasks/{theirs.task_id}/cancel", data={"csrf_token": csrf})).status_code == 404
    assert (await gw.tasks.get(theirs.task_id)).status == S.SUBMITTED


async def test_what_users_and_agents_wrote_is_escaped(gw):
    task = await _task(gw, "alice", SCRIPT)
    await gw.tasks.append_event(task.task_id, "agent.command_refused", {"command": SCRIPT, "reason": "policy"})
    await gw.tasks.transition(task.task_id, S.FAILED, changes={"error_message": SCRIPT, "error_code": "AGENT_ERROR",
                                                                "pr_url": "javascript:alert(1)"})
    async with browser(gw, "alice") as b:
        for path in ("/ui/", f"/ui/tasks/{task.task_id}"):
            html = (await b.get(path)).text
            assert SCRIPT not in html and "&lt;script&gt;" in html
        assert 'href="javascript:' not in html


async def test_a_task_page_reads_as_text_with_timeline_cost_and_remedy(gw):
    task = await _task(gw, "alice", model_id="m")
    store = gw.tasks
    await store.transition(task.task_id, S.HYDRATING, max_active=5)
    await store.transition(task.task_id, S.RUNNING)
    for turn, cost in ((1, 0.01), (2, 0.03)):
        await store.append_event(task.task_id, "agent.turn", {"turn": turn, "tools": ["bash"], "cost_usd": cost})
    await store.append_event(task.task_id, "agent.tests", {"passed": True, "command": "pytest -q"})
    await store.transition(task.task_id, S.FAILED, changes={
        "error_code": "AGENT_ERROR", "error_message": "the model gave up", "cost_usd": 0.03, "turns": 2,
        "tokens": Tokens(input=100, output=50, cache_read=300, cache_write=100).model_dump()})
    async with browser(gw, "alice") as b:
        html = (await b.get(f"/ui/tasks/{task.task_id}")).text
    for text in ("SUBMITTED → HYDRATING", "turn 2 · bash · $0.0300 so far", "tests passed · pytest -q",
                 "The agent reported an error", "What to do:", "the model gave up", "$0.0300", "60 %"):
        assert text in html, text
    assert html.count("<rect ") == 2 and "turn 2: $0.0200" in html
    assert "Cancel task" not in html and 'hx-trigger' not in html  # terminal: nothing to cancel, nothing to poll


async def test_cancelling_from_the_page_uses_the_api_cancellation(gw):
    task = await _task(gw, "alice")
    async with browser(gw, "alice") as b:
        page = await b.get(f"/ui/tasks/{task.task_id}")
        assert "Cancel task" in page.text
        resp = await b.post(f"/ui/tasks/{task.task_id}/cancel", data={"csrf_token": csrf_of(page.text)})
        assert resp.status_code == 303
        assert (await gw.tasks.get(task.task_id)).status == S.CANCELLED
        assert len(gw.bus.of(TaskCancelled)) == 1
        again = await b.post(f"/ui/tasks/{task.task_id}/cancel", data={"csrf_token": csrf_of(page.text)})
        assert again.status_code == 409 and "already CANCELLED" in again.text


class RecordedPulls:
    def __init__(self, *pulls: PullRequest) -> None:
        self.pulls = {p.head: p for p in pulls}

    async def find_pull(self, repo: str, head: str) -> PullRequest | None:
        return self.pulls.get(head)


async def test_a_local_repositorys_recorded_pull_request_is_shown(gw):
    task = await _task(gw, "alice")
    gw.deps.recorded_pulls = RecordedPulls(PullRequest(number=3, url="local://acme/app/pull/3", head=task.branch_name,
                                                       base="main", title="Add notes", body="Adds <NOTES.md>"))
    await gw.tasks.transition(task.task_id, S.FAILED, changes={"pr_url": "local://acme/app/pull/3"})
    async with browser(gw, "alice") as b:
        html = (await b.get(f"/ui/tasks/{task.task_id}")).text
    assert "recorded pull request #3" in html and "Add notes" in html and "Adds &lt;NOTES.md&gt;" in html
    assert 'href="local://' not in html


async def test_the_list_shows_cost_and_duration(gw):
    task = await _task(gw, "alice")
    await gw.tasks.transition(task.task_id, S.FAILED, changes={
        "cost_usd": 0.1234, "started_at": "2026-01-01T10:00:00.000Z", "completed_at": "2026-01-01T10:01:30.000Z"})
    async with browser(gw, "alice") as b:
        html = (await b.get("/ui/")).text
    assert "$0.1234" in html and "90 s" in html


async def test_the_form_chooses_the_engine_and_the_page_and_list_show_it(gw):
    async with browser(gw, "alice") as b:
        page = await b.get("/ui/submit")
        assert '<option value="claude-code"' in page.text and '<option value="oracle"' not in page.text
        resp = await b.post("/ui/submit", data={"csrf_token": csrf_of(page.text), "repo": "acme/app",
                                                "task_description": "Add a notes file", "engine": "claude-code"})
        assert resp.status_code == 303, resp.text
        task_id = resp.headers["location"].rsplit("/", 1)[1]
        assert (await gw.tasks.get(task_id)).engine == "claude-code"
        detail = (await b.get(f"/ui/tasks/{task_id}")).text
        listed = (await b.get("/ui/")).text
    assert "<dt>Engine</dt><dd>claude-code</dd>" in detail
    assert re.search(r"<td>acme/app</td>\s*<td>claude-code</td>", listed)


async def test_an_engine_the_deployment_lacks_is_marked_on_the_form(gw):
    gw.deps.settings.agent_engines = ["native"]
    async with browser(gw, "alice") as b:
        bad = await b.post("/ui/submit", data={"csrf_token": await _submit_form(b), "repo": "acme/app",
                                              "task_description": "Keep me", "engine": "claude-code"})
    assert bad.status_code == 400 and 'id="error-engine"' in bad.text and "bgagent[claude-code]" in bad.text
    assert (await gw.tasks.list_for_user("alice"))[0] == []

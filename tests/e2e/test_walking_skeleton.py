"""One task flows end to end through every service, agent included."""

from __future__ import annotations

import pytest

from tests.doubles.scenarios import EDIT_NOTES_PATH, EDIT_NOTES_TEXT, FAKE_EDIT, FAKE_ERROR
from tests.support.git import branch_log, file_at

pytestmark = pytest.mark.e2e


def _transitions(platform, user, task_id):
    with platform.client(user) as c:
        events = c.get(f"/v1/tasks/{task_id}/events", params={"limit": 100}).json()["data"]
    return [e["metadata"]["to"] for e in events if e["event_type"] == "transition"]


def test_a_task_reaches_completed_with_a_pull_request(platform):
    bare = platform.add_repo("acme/skeleton")
    platform.github.add_issue("acme/skeleton", 7, "Add notes", "Please add a NOTES.md file.",
                              comments=["Keep it short."])
    with platform.client("alice") as c:
        resp = c.post("/v1/tasks", json={"repo": "acme/skeleton", "issue_number": 7,
                                         "task_description": "Add a notes file", "model_id": FAKE_EDIT})
    assert resp.status_code == 201, resp.text
    task_id = resp.json()["data"]["task_id"]

    task = platform.wait_for("alice", task_id)
    assert task["status"] == "COMPLETED", task
    branch = task["branch_name"]
    assert branch.startswith(f"bgagent/{task_id}/")
    assert file_at(bare, branch, EDIT_NOTES_PATH) == EDIT_NOTES_TEXT
    log = branch_log(bare, branch)
    assert f"Task-Id: {task_id}" in log and f"Prompt-Version: {task['prompt_version']}" in log
    pulls = platform.github.pulls("acme/skeleton")
    assert len(pulls) == 1 and pulls[0]["head"]["ref"] == branch and pulls[0]["base"]["ref"] == "main"
    assert task["pr_url"] == pulls[0]["html_url"]
    assert _transitions(platform, "alice", task_id) == [
        "SUBMITTED", "HYDRATING", "RUNNING", "FINALIZING", "COMPLETED"]
    assert platform.active_count("alice") == 0
    assert task["cost_usd"] > 0 and task["turns"] >= 4


def test_a_model_that_refuses_every_call_fails_the_task_readably(platform):
    platform.add_repo("acme/refused")
    with platform.client("bob") as c:
        resp = c.post("/v1/tasks", json={"repo": "acme/refused", "task_description": "Do something",
                                         "model_id": FAKE_ERROR})
    task_id = resp.json()["data"]["task_id"]
    task = platform.wait_for("bob", task_id)
    assert task["status"] == "FAILED", task
    assert task["error_message"] and "fake rejection" in task["error_message"]
    assert task["error_classification"]["remedy"]
    assert platform.github.pulls("acme/refused") == []
    assert platform.active_count("bob") == 0


def test_a_local_repository_works_without_github(platform, tmp_path):
    from shared.aws.dynamo import to_item
    from shared.repos.models import RepoConfig
    from tests.support.git import git, make_bare_repo

    seed = make_bare_repo(tmp_path, "offline")
    work = tmp_path / "offline-work"  # a working copy, as a user's own checkout would be
    git("clone", str(seed), str(work))
    row = RepoConfig(repo="me/offline", git_host="local", local_path=str(work)).model_dump(mode="json")
    platform.boto("dynamodb").put_item(TableName=platform.names.repos_table, Item=to_item(row))
    with platform.client("olga") as c:
        resp = c.post("/v1/tasks", json={"repo": "me/offline", "task_description": "Add notes",
                                         "model_id": FAKE_EDIT})
    task = platform.wait_for("olga", resp.json()["data"]["task_id"])
    assert task["status"] == "COMPLETED", task
    assert task["pr_url"] == "local://me/offline/pull/1"
    assert git("show", f"{task['branch_name']}:{EDIT_NOTES_PATH}", cwd=work) == EDIT_NOTES_TEXT
    assert not any(r["path"].startswith("/repos/me/offline") for r in platform.github.requests)

"""Continuing the work: iterate on a bgagent pull request, review it, and refuse PRs it cannot push to."""

from __future__ import annotations

import json

import httpx
import pytest

from shared.githost.status_comment import marker
from tests.doubles.github_contract import request_errors
from tests.doubles.scenarios import (
    EDIT_NOTES_PATH,
    FAKE_EDIT,
    FAKE_ITERATE,
    FAKE_REVIEW,
    ITERATE_PATH,
    ITERATE_TEXT,
    REVIEW_COMMENT,
    REVIEW_SUMMARY,
)
from tests.support.git import branch_log, file_at, git
from tests.support.platform import GITHUB_TOKEN

pytestmark = pytest.mark.e2e

REPO = "acme/iterate"
REVIEW_ASK = "Please also record what changed in CHANGES.md."


def _submit(platform, user: str, body: dict) -> dict:
    with platform.client(user) as c:
        resp = c.post("/v1/tasks", json={"repo": REPO, **body})
    assert resp.status_code == 201, resp.text
    return platform.wait_for(user, resp.json()["data"]["task_id"])


@pytest.fixture(scope="module")
def opened(platform):
    """A first task's pull request, with a reviewer's comment on it."""
    bare = platform.add_repo(REPO, test_command="test -f README.md")
    first = _submit(platform, "pat", {"task_description": "Add notes", "model_id": FAKE_EDIT})
    assert first["status"] == "COMPLETED", first
    pr = platform.github.pulls(REPO)[0]
    platform.github.add_review_comment(REPO, pr["number"], EDIT_NOTES_PATH, 1, REVIEW_ASK)
    return bare, first, pr


def test_an_iteration_pushes_a_second_commit_to_the_same_pull_request(platform, opened):
    bare, first, pr = opened
    task = _submit(platform, "pat", {"pr_number": pr["number"], "model_id": FAKE_ITERATE})
    assert task["status"] == "COMPLETED", task
    assert task["task_type"] == "pr_iteration" and task["pr_number"] == pr["number"]
    assert task["branch_name"] == first["branch_name"] and task["pr_url"] == pr["html_url"]
    assert file_at(bare, first["branch_name"], ITERATE_PATH) == ITERATE_TEXT
    log = branch_log(bare, first["branch_name"])
    assert log.count("Task-Id:") == 2 and f"Task-Id: {task['task_id']}" in log
    assert len(platform.github.pulls(REPO)) == 1
    comments = [c for c in platform.github.conversation(REPO, pr["number"]) if marker(task["task_id"]) in c["body"]]
    assert len(comments) == 1 and "passed" in comments[0]["body"]
    prompts = json.dumps(platform.anthropic.requests_for(FAKE_ITERATE)[0]["messages"])
    assert REVIEW_ASK in prompts
    learnings = platform.boto("dynamodb").query(
        TableName=platform.names.memory_table, KeyConditionExpression="repo = :r AND begins_with(sk, :k)",
        ExpressionAttributeValues={":r": {"S": REPO}, ":k": {"S": "learning#"}})["Items"]
    assert [i["text"]["S"] for i in learnings] == [f"Reviewers here asked on {EDIT_NOTES_PATH}: {REVIEW_ASK}"]


def test_a_review_posts_one_review_with_inline_comments_and_pushes_nothing(platform, opened):
    bare, first, pr = opened
    before = git("--git-dir", str(bare), "rev-parse", first["branch_name"])
    task = _submit(platform, "pat", {"task_type": "pr_review", "pr_number": pr["number"], "model_id": FAKE_REVIEW})
    assert task["status"] == "COMPLETED", task
    reviews = platform.github.reviews(REPO, pr["number"])
    assert len(reviews) == 1 and reviews[0]["state"] == "COMMENTED"
    assert REVIEW_SUMMARY in reviews[0]["body"]
    assert [(c["path"], c["line"], c["body"]) for c in reviews[0]["comments"]] == [tuple(REVIEW_COMMENT.values())]
    assert task["review_url"] == reviews[0]["html_url"] and task["review_comment_count"] == 1
    assert git("--git-dir", str(bare), "rev-parse", first["branch_name"]) == before
    tool_results = json.dumps(platform.anthropic.requests_for(FAKE_REVIEW)[-1]["messages"])
    assert "read-only review" in tool_results


def test_another_users_iteration_on_the_pull_request_is_refused_and_pushes_nothing(platform, opened):
    bare, first, pr = opened
    before = git("--git-dir", str(bare), "rev-parse", first["branch_name"])
    with platform.client("mallory") as c:
        for body in ({"pr_number": pr["number"]}, {"task_type": "pr_review", "pr_number": pr["number"]}):
            resp = c.post("/v1/tasks", json={"repo": REPO, "model_id": FAKE_ITERATE, **body})
            assert resp.status_code == 403 and resp.json()["error"]["code"] == "PR_NOT_YOURS", resp.text
        assert c.get("/v1/tasks").json()["data"] == []
    assert git("--git-dir", str(bare), "rev-parse", first["branch_name"]) == before
    opener = platform.boto("dynamodb").get_item(
        TableName=platform.names.pull_outcomes_table, Key={"repo": {"S": REPO}, "pr_number": {"N": str(pr["number"])}},
        ConsistentRead=True)["Item"]
    assert (opener["user_id"]["S"], opener["task_id"]["S"]) == ("pat", first["task_id"])


def test_a_missing_pull_request_is_refused_at_create(platform, opened):
    with platform.client("pat") as c:
        resp = c.post("/v1/tasks", json={"repo": REPO, "pr_number": 999, "model_id": FAKE_ITERATE})
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "PR_NOT_FOUND"


def test_a_closed_pull_request_fails_readably_before_the_agent_starts(platform, opened):
    _, _, pr = opened
    with platform.client("quinn") as c:
        created = c.post("/v1/tasks", json={"repo": REPO, "task_description": "Another change",
                                            "model_id": FAKE_EDIT}).json()["data"]
    done = platform.wait_for("quinn", created["task_id"])
    number = [p for p in platform.github.pulls(REPO) if p["head"]["ref"] == done["branch_name"]][0]["number"]
    httpx.patch(f"{platform.github_url}/repos/{REPO}/pulls/{number}", json={"state": "closed"},
                headers={"Authorization": f"Bearer {GITHUB_TOKEN}"}).raise_for_status()
    task = _submit(platform, "quinn", {"pr_number": number, "model_id": FAKE_ITERATE})
    assert task["status"] == "FAILED" and task["error_code"] == "PR_NOT_ITERABLE", task
    assert "closed" in task["error_message"] and task["error_classification"]["remedy"]
    assert task["started_at"] is None


def test_every_github_call_of_these_flows_is_documented_by_github(platform, opened):
    calls = platform.github.requests
    assert any(r["path"].endswith("/reviews") and r["method"] == "POST" for r in calls)
    problems = {f"{r['method']} {r['path']}": request_errors(r["method"], r["path"],
                                                             json.loads(r["body"]) if r["body"] else None)
                for r in calls}
    assert {k: v for k, v in problems.items() if v} == {}

"""`@bgagent` on GitHub: comments and reviews on a pull request start iterations and reviews, once per
delivery, for senders who may push, with one status comment edited in place."""

from __future__ import annotations

import time

import httpx
import pytest

from shared.githost.status_comment import marker
from tests.doubles.scenarios import FAKE_EDIT, FAKE_ITERATE, FAKE_REVIEW, ITERATE_PATH
from tests.support.git import file_at
from tests.support.github_payloads import pr_comment, pr_labeled, review_submitted, signed
from tests.support.platform import running_platform

pytestmark = pytest.mark.e2e
SECRET = "e2e-github-webhook-secret-0123456789"


@pytest.fixture(scope="module")
def platform(aws_endpoint, tmp_path_factory):
    with running_platform(aws_endpoint, tmp_path_factory.mktemp("platform"),
                          BGAGENT_GITHUB_WEBHOOK_SECRET=SECRET) as p:
        yield p


def _deliver(platform, event: str, payload: dict, delivery: str | None = None) -> httpx.Response:
    raw, headers = signed(SECRET, event, payload, delivery)
    return httpx.post(f"{platform.api_url}/v1/github/events", content=raw, headers=headers, timeout=30)


def _pull_request(platform, repo: str, model_id: str) -> tuple:
    """An onboarded repo whose GitHub-started tasks use `model_id`, and a first bgagent pull request on it."""
    bare = platform.add_repo(repo, model_id=model_id)
    with platform.client("dev") as c:
        task_id = c.post("/v1/tasks", json={"repo": repo, "task_description": "Add notes",
                                            "model_id": FAKE_EDIT}).json()["data"]["task_id"]
    assert platform.wait_for("dev", task_id)["status"] == "COMPLETED"
    return bare, platform.github.pulls(repo)[0]


def _status_comments(platform, repo: str, number: int, task_id: str, saying: str = "",
                     timeout: float = 20) -> list[dict]:
    """The task's comments on the thread, once one says `saying` (the finalizer edits it after the
    terminal transition, so a reader may briefly see the previous state)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [c for c in platform.github.conversation(repo, number) if marker(task_id) in c["body"]]
        if any(saying in c["body"] for c in found) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_a_mention_starts_one_iteration_per_delivery_with_one_status_comment(platform):
    repo = "acme/mention"
    bare, pr = _pull_request(platform, repo, FAKE_ITERATE)
    platform.github.set_permission(repo, "maintainer", "write")
    payload = pr_comment(repo, pr, "@bgagent please record the change in CHANGES.md")
    first, again = _deliver(platform, "issue_comment", payload, "d-1"), _deliver(platform, "issue_comment", payload,
                                                                                  "d-1")
    assert (first.status_code, again.status_code) == (201, 200), first.text
    created = first.json()["data"]
    assert again.json()["data"]["task_id"] == created["task_id"]
    assert created["task_type"] == "pr_iteration" and created["pr_number"] == pr["number"]
    task = platform.wait_for("github", created["task_id"])
    assert task["status"] == "COMPLETED", task
    assert file_at(bare, pr["head"]["ref"], ITERATE_PATH)
    comments = _status_comments(platform, repo, pr["number"], task["task_id"], "finished")
    assert len(comments) == 1 and "finished" in comments[0]["body"] and "Tests:" in comments[0]["body"]
    again = _deliver(platform, "issue_comment", payload, "d-1")
    assert again.status_code == 200 and len(_status_comments(platform, repo, pr["number"], task["task_id"])) == 1


@pytest.mark.parametrize("association, sender, kind, reason", [
    ("NONE", "drive-by", "User", "no write access"),
    ("CONTRIBUTOR", "reader", "User", "permission read"),
    ("NONE", "bgagent[bot]", "Bot", "own comments"),
])
def test_senders_without_write_access_and_the_bot_itself_start_nothing(platform, association, sender, kind, reason):
    repo = "acme/guarded"
    if not platform.github.pulls(repo):
        _pull_request(platform, repo, FAKE_ITERATE)
    pr = platform.github.pulls(repo)[0]
    resp = _deliver(platform, "issue_comment", pr_comment(repo, pr, "@bgagent do it", sender=sender,
                                                          association=association, kind=kind))
    assert resp.status_code == 200 and reason in resp.json()["data"]["reason"]


def test_changes_requested_and_review_requests_start_iterations_and_reviews(platform):
    repo = "acme/reviewed"
    _, pr = _pull_request(platform, repo, FAKE_REVIEW)
    platform.github.set_permission(repo, "maintainer", "maintain")
    review = _deliver(platform, "pull_request_review", review_submitted(repo, pr, "changes_requested", "Rename it"))
    assert review.status_code == 201 and review.json()["data"]["task_type"] == "pr_iteration", review.text
    approved = _deliver(platform, "pull_request_review", review_submitted(repo, pr, "approved", "LGTM"))
    assert approved.status_code == 200
    asked = _deliver(platform, "issue_comment", pr_comment(repo, pr, "@bgagent review", association="OWNER"))
    assert asked.status_code == 201 and asked.json()["data"]["task_type"] == "pr_review"
    labeled = _deliver(platform, "pull_request", pr_labeled(repo, pr, "bgagent-review"))
    assert labeled.status_code == 201 and labeled.json()["data"]["task_type"] == "pr_review"
    with platform.client("github") as c:
        cancelled = c.delete(f"/v1/tasks/{labeled.json()['data']['task_id']}").json()["data"]
    reviewed = platform.wait_for("github", asked.json()["data"]["task_id"])
    assert reviewed["status"] == "COMPLETED" and reviewed["review_comment_count"] == 1, reviewed
    assert "cancelled" in _status_comments(platform, repo, pr["number"], cancelled["task_id"], "cancelled")[0]["body"]
    done = _status_comments(platform, repo, pr["number"], reviewed["task_id"], "finished")
    assert len(done) == 1 and reviewed["review_url"] in done[0]["body"]
    platform.wait_for("github", review.json()["data"]["task_id"])

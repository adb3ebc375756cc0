"""GitHub's own example payloads (@octokit/webhooks-examples), pointed at an onboarded repo, start the tasks
the default rules promise."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tests.gateway.conftest import GITHUB_SECRET
from tests.gateway.signing import signed_github

EXAMPLES = json.loads((Path(__file__).parents[1] / "support" / "github_examples.json").read_text())


def _example(name: str) -> dict:
    payload = copy.deepcopy(EXAMPLES[name])
    payload["repository"]["full_name"] = "acme/app"
    return payload


async def _send(gw, event: str, payload: dict, delivery: str) -> tuple[int, dict]:
    async with gw.client() as c:
        raw, headers = signed_github(GITHUB_SECRET, event, payload, delivery)
        resp = await c.post("/v1/github/events", content=raw, headers=headers)
    return resp.status_code, resp.json()["data"]


async def test_a_mention_in_a_pr_comment_example_starts_an_iteration(gw):
    payload = _example("issue_comment.created")
    payload["issue"]["pull_request"] = {"url": payload["issue"]["url"].replace("/issues/", "/pulls/")}
    payload["comment"]["body"] = "@bgagent please handle the null case"
    status, data = await _send(gw, "issue_comment", payload, "ex-1")
    assert status == 201 and data["task_type"] == "pr_iteration" and data["pr_number"] == payload["issue"]["number"]
    payload["comment"]["body"] = "@bgagent review"
    status, data = await _send(gw, "issue_comment", payload, "ex-2")
    assert status == 201 and data["task_type"] == "pr_review"


async def test_the_comment_example_on_a_plain_issue_starts_nothing(gw):
    payload = _example("issue_comment.created")
    payload["comment"]["body"] = "@bgagent please"
    status, data = await _send(gw, "issue_comment", payload, "ex-3")
    assert status == 200 and "no trigger rule" in data["reason"]


@pytest.mark.parametrize("state, head, expected", [
    ("changes_requested", "bgagent/01X/fix", 201), ("changes_requested", "changes", 200),
    ("commented", "bgagent/x", 200),
])
async def test_review_examples_start_an_iteration_only_for_changes_requested_on_bgagent_prs(gw, state, head, expected):
    payload = _example("pull_request_review.submitted")
    payload["review"]["state"], payload["pull_request"]["head"]["ref"] = state, head
    status, data = await _send(gw, "pull_request_review", payload, f"ex-{state}-{head}")
    assert status == expected, data
    if expected == 201:
        assert data["task_type"] == "pr_iteration"


async def test_the_labeled_pr_example_with_the_review_label_starts_a_review(gw):
    payload = _example("pull_request.labeled")
    payload["label"]["name"] = "bgagent-review"
    status, data = await _send(gw, "pull_request", payload, "ex-label")
    assert status == 201 and data["task_type"] == "pr_review" and data["pr_number"] == payload["number"]

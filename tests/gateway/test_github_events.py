"""POST /v1/github/events: GitHub's signature, delivery dedupe, and per-repo trigger rules."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from shared.aws.secrets import CachedSecrets
from shared.events.models import TaskSubmitted
from shared.repos.models import GitHubTrigger, RepoConfig
from tests.fakes.collaborators import InMemoryRepos
from tests.gateway.conftest import GITHUB_SECRET, build_gateway
from tests.gateway.fakes import InMemorySecrets
from tests.gateway.signing import issue_labeled, signed_github


async def _send(gw, event: str, payload: dict, delivery: str = "guid-1", secret: str = GITHUB_SECRET):
    async with gw.client() as c:
        raw, headers = signed_github(secret, event, payload, delivery)
        return await c.post("/v1/github/events", content=raw, headers=headers)


async def test_ping_is_answered_with_pong(gw):
    resp = await _send(gw, "ping", {"zen": "Keep it logically awesome.", "hook_id": 1})
    assert resp.status_code == 200 and resp.json() == {"data": {"pong": True}}


async def test_a_labeled_issue_delivered_three_times_makes_exactly_one_task(gw):
    responses = [await _send(gw, "issues", issue_labeled(), delivery="guid-7") for _ in range(3)]
    assert [r.status_code for r in responses] == [201, 200, 200]
    assert {r.json()["data"]["task_id"] for r in responses} == {responses[0].json()["data"]["task_id"]}
    task = await gw.tasks.get(responses[0].json()["data"]["task_id"])
    assert task.user_id == "github" and task.channel_source == "github"
    assert task.issue_number == 42 and task.task_description == "Fix the flaky test" and task.repo == "acme/app"
    assert task.channel_metadata == {"delivery_id": "guid-7", "event": "issues", "action": "labeled",
                                     "sender": "octocat", "thread": 42}
    assert len(gw.tasks.tasks) == 1 and len(gw.bus.of(TaskSubmitted)) == 1


async def test_the_platform_user_owning_github_tasks_is_a_setting(issuer):
    gw = build_gateway(issuer, github_task_user="gh-bot")
    resp = await _send(gw, "issues", issue_labeled())
    assert (await gw.tasks.get(resp.json()["data"]["task_id"])).user_id == "gh-bot"


@pytest.mark.parametrize("event, payload, reason", [
    ("issues", issue_labeled(label="bug"), "no trigger rule"),
    ("issues", {**issue_labeled(), "action": "opened"}, "no trigger rule"),
    ("issues", issue_labeled(repo="acme/unknown"), "not onboarded"),
    ("issues", issue_labeled(repo="acme/gone"), "not onboarded"),
    ("push", {"ref": "refs/heads/main", "repository": {"full_name": "acme/app"}}, "carry no issue"),
    ("issue_comment", {**issue_labeled(), "action": "created",
                       "issue": {"number": 1, "title": "t", "pull_request": {"url": "u"}}}, "no trigger rule"),
    ("issues", {"action": "labeled"}, "no repository"),
])
async def test_other_events_are_acknowledged_200_and_ignored(gw, event, payload, reason):
    resp = await _send(gw, event, payload)
    assert resp.status_code == 200
    assert resp.json()["data"]["ignored"] is True and reason in resp.json()["data"]["reason"]
    assert gw.tasks.tasks == {}


async def test_repo_rules_replace_the_default(issuer):
    repos = InMemoryRepos(
        RepoConfig(repo="acme/app", github_triggers=[GitHubTrigger(events=["issues"], actions=["opened"],
                                                                   labels=["agent", "robot"])]),
        RepoConfig(repo="acme/off", github_triggers=[]),
        RepoConfig(repo="acme/any", github_triggers=[GitHubTrigger(events=["issues"], actions=[], labels=[])]))
    gw = build_gateway(issuer, repos=repos)
    opened = {**issue_labeled(), "action": "opened",
              "issue": {"number": 3, "title": "T", "labels": [{"name": "robot"}]}}
    assert (await _send(gw, "issues", opened, delivery="a")).status_code == 201
    assert (await _send(gw, "issues", issue_labeled(), delivery="b")).status_code == 200  # default rule replaced
    assert (await _send(gw, "issues", issue_labeled(repo="acme/off"), delivery="c")).status_code == 200
    assert (await _send(gw, "issues", {**issue_labeled(repo="acme/any"), "action": "edited"},
                        delivery="d")).status_code == 201


async def test_adding_another_label_to_a_triggered_issue_starts_nothing(gw):
    payload = issue_labeled(label="documentation")
    payload["issue"]["labels"] = [{"name": "bgagent"}, {"name": "documentation"}]
    assert (await _send(gw, "issues", payload)).status_code == 200


@pytest.mark.parametrize("tamper", ["wrong secret", "no signature", "body changed"])
async def test_a_bad_signature_is_401(gw, tamper):
    raw, headers = signed_github("wrong" if tamper == "wrong secret" else GITHUB_SECRET, "issues", issue_labeled(),
                                 "guid-x")
    if tamper == "no signature":
        headers.pop("X-Hub-Signature-256")
    if tamper == "body changed":
        raw = raw.replace(b"42", b"43")
    async with gw.client() as c:
        resp = await c.post("/v1/github/events", content=raw, headers=headers)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "UNAUTHORIZED"
    assert gw.tasks.tasks == {}


async def test_a_form_encoded_delivery_is_understood(gw):
    form = urlencode({"payload": json.dumps(issue_labeled())}).encode()
    raw, headers = signed_github(GITHUB_SECRET, "issues", form, "guid-f",
                                 content_type="application/x-www-form-urlencoded")
    async with gw.client() as c:
        resp = await c.post("/v1/github/events", content=raw, headers=headers)
    assert resp.status_code == 201


async def test_malformed_payload_or_delivery_is_400(gw):
    async with gw.client() as c:
        bad, headers = signed_github(GITHUB_SECRET, "issues", b"{oops", "guid-m")
        not_json = await c.post("/v1/github/events", content=bad, headers=headers)
        raw, headers = signed_github(GITHUB_SECRET, "issues", issue_labeled(), "guid-m")
        headers.pop("X-GitHub-Delivery")
        no_delivery = await c.post("/v1/github/events", content=raw, headers=headers)
    assert not_json.status_code == 400 and no_delivery.status_code == 400


async def test_without_a_configured_secret_the_endpoint_is_503(issuer):
    gw = build_gateway(issuer, github_webhook_secret=None)
    resp = await _send(gw, "ping", {})
    assert resp.status_code == 503 and resp.json()["error"]["code"] == "SERVICE_UNAVAILABLE"


async def test_the_secret_can_come_from_secrets_manager(issuer):
    secrets = InMemorySecrets()
    await secrets.create("bgagent/github-webhook", "from-secrets-manager-0123456789")
    gw = build_gateway(issuer, github_webhook_secret=None, github_webhook_secret_name="bgagent/github-webhook",
                       secrets=secrets)
    assert isinstance(gw.deps.secrets, CachedSecrets)
    assert (await _send(gw, "ping", {}, secret="from-secrets-manager-0123456789")).status_code == 200
    assert (await _send(gw, "ping", {})).status_code == 401


_PR_ISSUE = {"number": 5, "title": "T", "pull_request": {"url": "u"}}


@pytest.mark.parametrize("event, payload", [
    ("issue_comment", {"action": "created", "repository": {"full_name": "acme/app"}, "issue": _PR_ISSUE,
                       "comment": "@bgagent fix"}),
    ("issue_comment", {"action": "created", "repository": {"full_name": "acme/app"},
                       "issue": {**_PR_ISSUE, "labels": 5}, "comment": {"body": ["@bgagent"]}, "sender": "x"}),
    ("issue_comment", {"action": "created", "repository": {"full_name": "acme/app"}, "issue": _PR_ISSUE,
                       "comment": {"body": "@bgagent go", "author_association": "NONE"},
                       "sender": {"login": "stranger"}}),
    ("pull_request_review", {"action": "submitted", "repository": {"full_name": "acme/app"},
                             "pull_request": {"number": "5", "head": "x"}, "review": {"state": None}}),
    ("pull_request_review", {"action": "submitted", "repository": {"full_name": "acme/app"},
                             "pull_request": {"number": 5, "head": {"ref": 7}}, "review": "changes_requested"}),
    ("pull_request", {"action": "labeled", "repository": {"full_name": "acme/app"}, "pull_request": [],
                      "label": "bgagent-review"}),
    ("issue_comment", {"action": "created", "repository": {"full_name": "acme/app"}, "issue": _PR_ISSUE,
                       "comment": {"body": "@bgagent again <!-- bgagent:task:01X -->",
                                   "author_association": "OWNER"}, "sender": {"login": "owner"}}),
])
async def test_unexpected_shapes_strangers_and_the_bot_are_acknowledged_and_ignored(gw, event, payload):
    resp = await _send(gw, event, payload)
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"]["ignored"] is True and resp.json()["data"]["reason"]
    assert gw.tasks.tasks == {}


async def test_an_owner_mention_on_a_pull_request_starts_an_iteration_with_the_comment(gw):
    payload = {"action": "created", "repository": {"full_name": "acme/app"}, "issue": _PR_ISSUE,
               "comment": {"body": "@bgagent rename the helper", "author_association": "OWNER"},
               "sender": {"login": "owner"}}
    resp = await _send(gw, "issue_comment", payload)
    assert resp.status_code == 201, resp.text
    task = await gw.tasks.get(resp.json()["data"]["task_id"])
    assert (task.task_type, task.pr_number, task.issue_number) == ("pr_iteration", 5, None)
    assert task.task_description == "@bgagent rename the helper" and task.channel_metadata["thread"] == 5

"""watch / nudge / pending / approve / deny / repo onboard --approval-rule through the real entry point."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.doubles.scenarios import FAKE_EDIT, FAKE_GATED, GATED_COMMAND

pytestmark = pytest.mark.e2e


def _user(cli) -> str:
    name = f"s{uuid.uuid4().hex[:8]}"
    assert cli("login", "--user", name).code == 0
    return name


def _wait_status(cli, task_id: str, status: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while cli("status", task_id, "--json").json()["status"] != status:
        assert time.monotonic() < deadline, f"never {status}"
        time.sleep(0.3)


def test_watch_shows_turns_and_the_pull_request_and_ends_with_the_task(cli, platform):
    _user(cli)
    repo = f"acme/watch-{uuid.uuid4().hex[:6]}"
    platform.add_repo(repo)
    task_id = cli("submit", "--repo", repo, "--description", "Notes", "--model", FAKE_EDIT, "--json").json()["task_id"]
    watched = cli("watch", task_id)
    assert watched.code == 0, watched.out + watched.err
    assert "turn 1" in watched.out and "pull request created" in watched.out
    assert "live stream unavailable" not in watched.out  # it streamed
    last = watched.out.rstrip().splitlines()[-1]
    assert last.startswith("COMPLETED") and "PR http://github.local/" in last


def test_onboard_a_rule_then_pending_approve_and_a_finished_task_refuses_nudges(cli, platform):
    _user(cli)
    repo = f"acme/rules-{uuid.uuid4().hex[:6]}"
    platform.add_repo(repo)
    onboarded = cli("repo", "onboard", repo, "--approval-rule", "installs=pip install", "--json")
    assert onboarded.code == 0, onboarded.err
    assert onboarded.json()["approval_rules"] == [{"name": "installs", "pattern": "pip install", "timeout_s": 1800,
                                                   "applies_to": ["bash"]}]
    assert cli("repo", "onboard", repo, "--approval-rule", "broken").code == 2
    task_id = cli("submit", "--repo", repo, "--description", "gated", "--model", FAKE_GATED,
                  "--json").json()["task_id"]
    _wait_status(cli, task_id, "AWAITING_APPROVAL")
    listed = cli("pending", "--json").json()
    assert [r["command"] for r in listed] == [GATED_COMMAND]
    approved = cli("approve", task_id, "--json")  # the task's only open request
    assert approved.code == 0 and approved.json()["status"] == "approved"
    assert cli("deny", task_id, listed[0]["approval_id"]).code == 3  # decided once
    assert cli("watch", task_id).code in (0, 5)
    refused = cli("nudge", task_id, "too late")
    assert refused.code == 3 and "TASK_NOT_RUNNING" in refused.err


def test_submit_pre_approve_skips_the_named_rule(cli, platform):
    _user(cli)
    repo = f"acme/pre-{uuid.uuid4().hex[:6]}"
    platform.add_repo(repo, approval_rules=[{"name": "installs", "pattern": "pip install"}])
    submitted = cli("submit", "--repo", repo, "--description", "pre", "--model", FAKE_GATED,
                    "--pre-approve", "installs", "--json")
    task_id = submitted.json()["task_id"]
    cli("watch", task_id)
    events = [e["event_type"] for e in cli("events", task_id, "--json").json()]
    assert "approval.requested" not in events and "agent.finished" in events

"""submit / list / status / events / cancel through the real entry point against the running platform."""

from __future__ import annotations

import json
import re
import time
import uuid

import pytest

from shared.llm.catalog import DEFAULT_MODEL_ID
from tests.doubles.scenarios import ERROR_MESSAGE, FAKE_EDIT, FAKE_ERROR, FAKE_LOOP, FAKE_NOT_FOUND

pytestmark = pytest.mark.e2e


def _user(cli) -> str:
    name = f"u{uuid.uuid4().hex[:8]}"
    assert cli("login", "--user", name).code == 0
    return name


def _repo(platform) -> str:
    name = f"acme/cli-{uuid.uuid4().hex[:6]}"
    platform.add_repo(name)
    return name


def test_submit_wait_exits_0_when_the_task_completes(cli, platform):
    _user(cli)
    repo = _repo(platform)
    result = cli("submit", "--repo", repo, "--description", "Add a notes file", "--model", FAKE_EDIT, "--wait")
    assert result.code == 0, result.out + result.err
    assert "COMPLETED" in result.out and "PR http://github.local/" in result.out
    assert "turn 1" in result.out  # progress lines while it ran


def test_submit_wait_exits_5_when_the_task_fails_and_says_why(cli, platform):
    _user(cli)
    result = cli("submit", "--repo", _repo(platform), "--description", "Do it", "--model", FAKE_ERROR, "--wait")
    assert result.code == 5, result.out + result.err
    assert "FAILED" in result.out and ERROR_MESSAGE in result.out and "remedy:" in result.out


def test_a_model_the_api_does_not_serve_fails_as_model_unavailable_with_its_remedy(cli, platform):
    _user(cli)
    result = cli("submit", "--repo", _repo(platform), "--description", "Do it", "--model", FAKE_NOT_FOUND, "--wait",
                 "--json")
    assert result.code == 5, result.out + result.err
    task = result.json()
    assert task["status"] == "FAILED" and task["error_code"] == "MODEL_UNAVAILABLE"
    assert f"use '{DEFAULT_MODEL_ID}' instead" in task["error_message"]
    assert task["error_classification"]["retryable"] is False
    assert "bgagent repo onboard" in task["error_classification"]["remedy"]


def test_submit_refuses_unknown_and_retired_models_before_any_task_exists(cli, platform):
    _user(cli)
    repo = _repo(platform)
    unknown = cli("submit", "--repo", repo, "--description", "x", "--model", "claude-imaginary-9")
    assert unknown.code == 3 and "VALIDATION_ERROR" in unknown.err and "unknown model" in unknown.err
    retired = cli("submit", "--repo", repo, "--description", "x", "--model", "claude-sonnet-4-5")
    assert retired.code == 3 and "use 'claude-sonnet-5-5' instead" in retired.err
    assert cli("list", "--json").json() == []


def test_events_follow_prints_every_transition_in_order_then_reads_give_json(cli, platform):
    _user(cli)
    repo = _repo(platform)
    platform.github.add_issue(repo, 3, "Add notes", "Please add notes.")
    submitted = cli("submit", "--repo", repo, "--issue", "3", "--description", "Notes", "--model", FAKE_EDIT,
                    "--json")
    assert submitted.code == 0 and submitted.json()["status"] == "SUBMITTED"
    task_id = submitted.json()["task_id"]

    followed = cli("events", task_id, "--follow", "--interval", "0.3")
    assert followed.code == 0, followed.err
    assert re.findall(r"→ (\w+)", followed.out) == ["SUBMITTED", "HYDRATING", "RUNNING", "FINALIZING", "COMPLETED"]
    assert "turn 1" in followed.out and "pull request created" in followed.out
    assert followed.out.rstrip().splitlines()[-1].startswith("COMPLETED")

    task = cli("status", task_id, "--json").json()
    assert task["status"] == "COMPLETED" and task["issue_number"] == 3
    assert task["pr_url"].startswith("http://github.local/")
    listed = cli("list", "--repo", repo, "--json")
    assert [t["task_id"] for t in listed.json()] == [task_id]
    assert cli("list", "--status", "running", "--repo", repo, "--json").json() == []
    events = cli("events", task_id, "--json").json()
    assert [e["metadata"]["to"] for e in events if e["event_type"] == "transition"][-1] == "COMPLETED"
    streamed = cli("events", task_id, "--follow", "--json")  # one JSON event per line; ends at once
    assert [json.loads(line) for line in streamed.out.splitlines()] == events

    human = cli("list", "--repo", repo)
    assert task_id in human.out and "COMPLETED" in human.out and "#3 Notes" in human.out
    assert "\x1b[" not in human.out  # no colour codes when stdout is not a terminal


def _wait_for_status(cli, task_id: str, wanted: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        task = cli("status", task_id, "--json").json()
        if task["status"] == wanted or time.monotonic() > deadline:
            return task
        time.sleep(0.3)


def test_cancel_stops_a_running_task_and_a_second_cancel_is_an_api_error(cli, platform):
    _user(cli)
    task_id = cli("submit", "--repo", _repo(platform), "--description", "Loop", "--model", FAKE_LOOP,
                  "--json").json()["task_id"]
    assert _wait_for_status(cli, task_id, "RUNNING")["status"] == "RUNNING"

    cancelled = cli("cancel", task_id)
    assert cancelled.code == 0, cancelled.err
    assert f"{task_id} CANCELLED" in cancelled.out
    assert cli("status", task_id, "--json").json()["status"] == "CANCELLED"

    again = cli("cancel", task_id)
    assert again.code == 3
    assert "TASK_ALREADY_TERMINAL" in again.err and "hint:" in again.err


def test_api_errors_show_code_and_hint_without_a_traceback(cli, platform):
    _user(cli)
    missing = cli("status", "01HZZZZZZZZZZZZZZZZZZZZZZZ")
    assert missing.code == 3 and missing.out == ""
    assert "TASK_NOT_FOUND" in missing.err and "request id:" in missing.err

    not_onboarded = cli("submit", "--repo", "acme/never-onboarded", "--description", "x")
    assert not_onboarded.code == 3
    assert "REPO_NOT_ONBOARDED" in not_onboarded.err and "bgagent repo onboard OWNER/NAME" in not_onboarded.err


def test_another_users_task_is_not_found(cli, platform):
    owner = _user(cli)
    task_id = cli("submit", "--repo", _repo(platform), "--description", "Mine", "--model", FAKE_LOOP,
                  "--json").json()["task_id"]
    _user(cli)
    assert "TASK_NOT_FOUND" in cli("status", task_id).err
    assert cli("cancel", task_id).code == 3  # nor can someone else cancel it
    cli("login", "--user", owner)
    assert cli("cancel", task_id).code == 0


def test_a_token_the_gateway_does_not_trust_is_unauthorized_with_a_login_hint(cli, platform, tmp_path):
    other_issuer = tmp_path / "other-issuer"
    from shared.auth.local_issuer import LocalIssuer

    LocalIssuer(other_issuer, platform.api_url)  # a key the gateway has never seen
    assert cli("configure", "--profile", "forged", "--api-url", platform.api_url,
               "--local-issuer-dir", other_issuer).code == 0
    result = cli("--profile", "forged", "list")
    assert result.code == 3 and "UNAUTHORIZED" in result.err and "bgagent login" in result.err


def test_idempotency_key_returns_the_first_task(cli, platform):
    _user(cli)
    repo = _repo(platform)
    key = uuid.uuid4().hex
    first = cli("submit", "--repo", repo, "--description", "Once", "--model", FAKE_EDIT,
                "--idempotency-key", key, "--json")
    second = cli("submit", "--repo", repo, "--description", "Once", "--model", FAKE_EDIT,
                 "--idempotency-key", key)
    assert second.code == 0
    assert first.json()["task_id"] in second.out and "already submitted" in second.out
    cli("cancel", first.json()["task_id"])  # no need to let it run


def test_submit_attach_refuses_unreadable_unknown_and_oversized_files(bgagent, tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 600_000)
    (tmp_path / "tool.exe").write_bytes(b"MZ")
    for spec, words in ((tmp_path / "missing.png", "cannot read"), (tmp_path / "tool.exe", "only png"),
                        (big, "at most")):
        result = bgagent("submit", "--repo", "a/b", "--description", "d", "--attach", spec)
        assert result.code == 2 and words in result.err, result.err


@pytest.mark.e2e
def test_submit_attach_sends_files_and_urls(cli, platform, tmp_path):
    platform.add_repo("acme/cli-attach")
    notes = tmp_path / "notes.md"
    notes.write_text("# Context\n")
    png = tmp_path / "shot.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    result = cli("submit", "--repo", "acme/cli-attach", "--description", "see files", "--model", "fake-noop",
                 "--attach", notes, "--attach", png, "--attach", "https://example.com/a.png", "--json")
    assert result.code == 0, result.err
    refs = result.json()["attachments"]
    assert [(r["type"], r.get("content_type"), r.get("filename")) for r in refs] == [
        ("file", "text/markdown", "notes.md"), ("image", "image/png", "shot.png"), ("url", None, None)]
    cli("cancel", result.json()["task_id"])

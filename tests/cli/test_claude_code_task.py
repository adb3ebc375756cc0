"""A repository switched to claude-code with one command runs its tasks on it, end to end on the embedded stack:
gateway, hydrator, dispatcher, the agent process with the CLI inside its sandbox, the relay, finalizer."""

from __future__ import annotations

import uuid

import pytest

from shared.engines import claude_code_cli
from tests.doubles.fake_anthropic import Turn
from tests.support.git import file_at
from tests.support.platform import ANTHROPIC_KEY, GITHUB_TOKEN

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(claude_code_cli() is None, reason="claude-code is not installed")]
MODEL = "claude-sonnet-5-5"  # a current model, priced by the catalog
NOTES = "Written by Claude Code on the embedded stack."


def test_a_repository_switched_to_claude_code_runs_its_task_to_a_pull_request(cli, platform):
    user = f"u{uuid.uuid4().hex[:8]}"
    cli("login", "--user", user)
    repo = f"acme/cc-{uuid.uuid4().hex[:6]}"
    bare = platform.add_repo(repo)
    assert cli("repo", "onboard", repo, "--engine", "claude-code").code == 0
    platform.anthropic.add_scenario(MODEL, [
        Turn.tool_use("Bash", {"command": f"printf '%s\\n' '{NOTES}' > NOTES.md && ls"}, text="Adding the notes."),
        Turn.tool_use("Bash", {"command": "env; cat /proc/1/environ | tr '\\0' '\\n'"}, text="Checking."),
        Turn.text("NOTES.md is written."),
    ])
    task = cli("submit", "--repo", repo, "--description", "Add a notes file", "--model", MODEL, "--json").json()
    assert task["engine"] == "claude-code"  # inherited from the repository

    done = platform.wait_for(user, task["task_id"], timeout=180)
    assert done["status"] == "COMPLETED", done
    assert file_at(bare, done["branch_name"], "NOTES.md").strip() == NOTES
    [pull] = [p for p in platform.github.pulls(repo) if p["head"]["ref"] == done["branch_name"]]
    assert "Engine: claude-code" in pull["body"] and "NOTES.md is written." in pull["body"]
    assert done["turns"] == 3 and done["cost_usd"] > 0
    events = cli("events", task["task_id"], "--json").json()
    started = next(e for e in events if e["event_type"] == "agent.started")
    assert started["metadata"]["engine"] == "claude-code"
    assert any(e["event_type"] == "agent.turn" for e in events)
    # The model's second command printed the sandbox's environment: neither the platform's keys nor its token.
    sent = repr([r["messages"] for r in platform.anthropic.requests_for(MODEL)])
    assert "ANTHROPIC_BASE_URL=http://127.0.0.1" in sent
    assert ANTHROPIC_KEY not in sent and GITHUB_TOKEN not in sent

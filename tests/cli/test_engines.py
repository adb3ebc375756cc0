"""Choosing an engine from the CLI: per task (submit --engine), per repository (repo onboard --engine, --mcp,
--mcp-file), shown by status, list and repo show."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.doubles.scenarios import FAKE_EDIT

pytestmark = pytest.mark.e2e


def _repo(cli, *options: str) -> str:
    repo = f"acme/eng-{uuid.uuid4().hex[:6]}"
    result = cli("repo", "onboard", repo, *options)
    assert result.code == 0, result.err
    return repo


def test_submit_names_the_engine_and_status_and_list_and_the_events_show_it(cli, platform):
    user = f"u{uuid.uuid4().hex[:8]}"
    cli("login", "--user", user)
    repo = f"acme/eng-{uuid.uuid4().hex[:6]}"
    platform.add_repo(repo)
    task = cli("submit", "--repo", repo, "--description", "Add a notes file", "--model", FAKE_EDIT,
               "--engine", "native", "--json").json()
    assert task["engine"] == "native"
    status = cli("status", task["task_id"])
    assert status.code == 0 and any(line.split() == ["engine", "native"] for line in status.out.splitlines())
    listed = cli("list").out.splitlines()
    header, row = listed[0], next(line for line in listed if task["task_id"] in line)
    assert row[header.index("ENGINE"):].split()[0] == "native"
    # The run itself says it: the hydrator writes the engine on the row, the agent names it when it starts.
    assert platform.wait_for(user, task["task_id"])["status"] == "COMPLETED"
    started = next(e for e in cli("events", task["task_id"], "--json").json() if e["event_type"] == "agent.started")
    assert started["metadata"]["engine"] == "native"
    assert f"agent started · engine native · model {FAKE_EDIT}" in cli("events", task["task_id"]).out


def test_submit_refuses_an_engine_outside_the_choices_before_any_request(cli):
    result = cli("submit", "--repo", "acme/x", "--description", "x", "--engine", "oracle")
    assert result.code == 2 and "native" in result.err and "claude-code" in result.err


def test_onboard_sets_the_engine_and_mcp_servers_and_repo_show_shows_them(cli, platform, tmp_path):
    servers = tmp_path / "mcp.json"
    servers.write_text(json.dumps({"tracker": {"type": "http", "url": "https://mcp.example.com/v1"}}))
    repo = _repo(cli, "--engine", "claude-code", "--mcp", "docs=docs-server --root 'my docs'",
                 "--mcp-file", str(servers))
    config = cli("repo", "show", repo, "--json").json()
    assert config["engine"] == "claude-code"
    assert config["mcp_servers"]["docs"] == {"type": "stdio", "command": "docs-server", "args": ["--root", "my docs"],
                                             "env": {}, "url": None}
    assert config["mcp_servers"]["tracker"]["url"] == "https://mcp.example.com/v1"
    shown = cli("repo", "show", repo).out
    assert "claude-code" in shown and "docs: docs-server --root 'my docs'" in shown
    assert "tracker: https://mcp.example.com/v1 (http)" in shown
    assert "claude-code" in cli("repo", "list").out

    # Options not given keep their value; --mcp '' clears the servers.
    assert cli("repo", "onboard", repo, "--max-turns", "9").code == 0
    assert cli("repo", "show", repo, "--json").json()["mcp_servers"].keys() == {"docs", "tracker"}
    assert cli("repo", "onboard", repo, "--mcp", "").code == 0
    assert cli("repo", "show", repo, "--json").json()["mcp_servers"] == {}


@pytest.mark.parametrize("content, words", [
    ({"docs": {"type": "http"}}, "MCP server docs: Value error, an http MCP server needs a url"),
    ({"docs": {"command": "x", "cwd": "/"}}, "MCP server docs.cwd: Extra inputs are not permitted"),
    ({"bad name!": {"command": "x"}}, "MCP server bad name!"),
])
def test_a_bad_mcp_file_names_the_server_and_field_and_writes_nothing(cli, platform, tmp_path, content, words):
    servers = tmp_path / "mcp.json"
    servers.write_text(json.dumps(content))
    repo = f"acme/mcp-{uuid.uuid4().hex[:6]}"
    result = cli("repo", "onboard", repo, "--mcp-file", str(servers))
    assert result.code == 2 and words in result.err, result.err
    assert cli("repo", "show", repo).code == 1


def test_a_bad_mcp_option_is_a_usage_error(cli, platform):
    for spec in ("docs", "docs=", "=docs-server"):
        result = cli("repo", "onboard", "acme/x", "--mcp", spec)
        assert result.code == 2 and "--mcp takes NAME=COMMAND" in result.err
    unclosed = cli("repo", "onboard", "acme/x", "--mcp", "docs=docs-server 'unclosed")
    assert unclosed.code == 2 and "cannot be split like a shell's" in unclosed.err


def test_onboarding_an_engine_the_deployment_lacks_is_refused_and_writes_nothing(cli, platform, monkeypatch):
    monkeypatch.setenv("BGAGENT_AGENT_ENGINES", '["native"]')
    repo = f"acme/noeng-{uuid.uuid4().hex[:6]}"
    result = cli("repo", "onboard", repo, "--engine", "claude-code")
    assert result.code == 2 and "pip install 'bgagent[claude-code]'" in result.err
    assert "ENGINE_UNAVAILABLE" in result.err
    assert cli("repo", "show", repo).code == 1


def test_a_schedule_names_the_engine_of_its_runs(cli, platform):
    cli("login", "--user", f"u{uuid.uuid4().hex[:8]}")
    repo = f"acme/eng-{uuid.uuid4().hex[:6]}"
    platform.add_repo(repo)
    result = cli("schedule", "create", "--name", "nightly", "--cron", "0 3 * * *", "--repo", repo,
                 "--description", "update deps", "--engine", "claude-code")
    assert result.code == 0, result.err
    assert any(line.split() == ["engine", "claude-code"] for line in result.out.splitlines())


def test_a_credential_given_to_an_mcp_server_is_refused_before_it_could_reach_the_sandbox(cli, platform, tmp_path):
    servers = tmp_path / "mcp.json"
    servers.write_text(json.dumps({"tracker": {"command": "tracker-mcp",
                                               "env": {"TOKEN": "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"}}}))
    repo = f"acme/mcpsecret-{uuid.uuid4().hex[:6]}"
    result = cli("repo", "onboard", repo, "--mcp-file", str(servers))
    assert result.code == 2 and "MCP server tracker" in result.err and "env.TOKEN looks like a credential" in result.err
    assert "ghp_" not in result.out + result.err
    assert cli("repo", "show", repo).code == 1

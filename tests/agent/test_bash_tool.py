"""The bash tool: where commands run, their deadline, output cap, environment and the policy in front."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import AsyncIterator

import pytest

from agent.sandbox.factory import SandboxConfig
from agent.sandbox.limits import processes_of, task_uid
from agent.tools.bash import BashTool
from agent.tools.policy import CommandPolicy
from agent.tools.toolbox import Toolbox
from agent.workspace import Workspace
from shared.observability.redaction import register_secret
from tests.agent.sandboxes import open_sandbox

PLANTED = "ghp_plantedSecretValue0123456789abcdef"


@pytest.fixture
async def workspace(tmp_path: Path) -> AsyncIterator[Workspace]:
    ws = Workspace("01TESTTASK", base_dir=tmp_path, tool_path=os.environ["PATH"], git_timeout=30)
    ws.repo.mkdir()
    ws.sandbox = await open_sandbox(ws)
    yield ws
    await ws.sandbox.close()


def make_bash(ws: Workspace, *, timeout: float = 10, output_limit: int = 5_000) -> BashTool:
    policy = CommandPolicy(ws.repo, "main", home=ws.home, extra_roots=[ws.tmp, ws.home])
    assert ws.sandbox is not None
    return BashTool(ws.repo, ws.sandbox, policy, timeout=timeout, output_limit=output_limit)


async def test_commands_run_in_the_clone_in_a_fresh_shell(workspace: Workspace) -> None:
    bash = make_bash(workspace)
    assert (await bash.run({"command": "pwd"})).text == str(workspace.repo)
    await bash.run({"command": "cd /tmp; export KEEP=1"})
    assert (await bash.run({"command": "pwd; echo ${KEEP:-gone}"})).text == f"{workspace.repo}\ngone"
    restarted = await bash.run({"restart": True})
    assert not restarted.is_error and "restarted" in restarted.text


async def test_exit_codes_and_empty_output_are_reported(workspace: Workspace) -> None:
    bash = make_bash(workspace)
    failed = await bash.run({"command": "echo oops >&2; exit 3"})
    assert not failed.is_error and failed.text == "oops\n[exit code: 3]"
    assert (await bash.run({"command": "true"})).text == "(no output)"
    assert (await bash.run({})).is_error


async def test_a_command_past_its_deadline_is_killed_with_its_children(workspace: Workspace) -> None:
    bash = make_bash(workspace, timeout=0.5)
    started = time.monotonic()
    result = await bash.run({"command": "echo started; (sleep 30; touch late.txt) & sleep 30"})
    assert time.monotonic() - started < 4
    assert result.is_error and "timed out" in result.text and "started" in result.text
    time.sleep(0.2)
    assert not (workspace.repo / "late.txt").exists()


async def test_background_jobs_do_not_outlive_their_command(workspace: Workspace) -> None:
    bash = make_bash(workspace, timeout=10)
    started = time.monotonic()
    result = await bash.run({"command": "(sleep 20; touch late.txt) & echo launched"})
    assert result.text == "launched" and time.monotonic() - started < 4
    assert not (workspace.repo / "late.txt").exists()


async def test_output_is_capped_with_a_marker(workspace: Workspace) -> None:
    toolbox = Toolbox([make_bash(workspace, output_limit=4_000)], output_limit=4_000)
    result = await toolbox.call("bash", {"command": "seq 1 200000"})
    assert len(result.text) < 5_000
    assert result.text.startswith("1\n2\n3\n") and result.text.rstrip().endswith("200000")
    assert "truncated" in result.text or "omitted" in result.text


async def test_the_tools_environment_holds_no_secret(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "BGAGENT_GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "sk-ant-should-not-leak")
    result = await make_bash(workspace).run({"command": "python3 -c 'import os; print(sorted(os.environ))'"})
    names = result.text
    for name in ("ANTHROPIC_API_KEY", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_"):
        assert name not in names
    assert "HOME" in names and "PATH" in names


async def test_a_planted_secret_is_redacted_from_tool_output(workspace: Workspace) -> None:
    register_secret(PLANTED)
    (workspace.repo / "config.env").write_text(f"TOKEN={PLANTED}\nOTHER=AKIAIOSFODNN7EXAMPLE\n")
    result = await Toolbox([make_bash(workspace)], output_limit=5_000).call("bash", {"command": "cat config.env"})
    assert PLANTED not in result.text and "AKIAIOSFODNN7EXAMPLE" not in result.text
    assert result.text.count("[REDACTED]") == 2


async def test_refusals_come_back_as_tool_errors(workspace: Workspace) -> None:
    result = await Toolbox([make_bash(workspace)], output_limit=5_000).call("bash", {"command": "rm -rf /"})
    assert result.is_error and result.refusal and "refused" in result.text
    unknown = await Toolbox([make_bash(workspace)], output_limit=5_000).call("computer", {})
    assert unknown.is_error


async def test_a_command_that_cannot_even_start_is_a_tool_error(workspace: Workspace) -> None:
    result = await Toolbox([make_bash(workspace)], output_limit=5_000).call("bash", {"command": "echo a\0b"})
    assert result.is_error and "ValueError" in result.text


async def test_a_fork_bomb_ends_at_its_limit_and_leaves_nothing_behind(workspace: Workspace) -> None:
    bash = make_bash(workspace, timeout=5)
    started = time.monotonic()
    # Every level waits for its two children (no `&`): the command cannot end before forks fail at the
    # limit, so the outcome never depends on which of the bomb's processes happened to print first.
    bomb = await bash.run({"command": ":(){ :|:; };:"})
    assert time.monotonic() - started < 20
    assert bomb.is_error or "Resource temporarily unavailable" in bomb.text
    assert (await bash.run({"command": "echo still here"})).text == "still here"
    uid = task_uid("01TESTTASK", SandboxConfig().uid_base) if os.geteuid() == 0 else None
    if uid is not None:  # every process of the task's command user went with its sandbox
        time.sleep(0.5)
        assert processes_of(uid) == 0

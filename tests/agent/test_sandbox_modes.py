"""The `two-user` sandbox of the ECS image: commands run as the second user, which owns only the workspace."""

from __future__ import annotations

import os
from pathlib import Path
from typing import AsyncIterator

import pytest

from agent.sandbox.factory import SandboxConfig
from agent.sandbox.protocol import Sandbox
from agent.workspace import Workspace
from tests.agent.sandboxes import open_sandbox

COMMAND_UID = 64_321
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs the runtime to be root")


@pytest.fixture
async def two_user() -> AsyncIterator[tuple[Workspace, Sandbox]]:
    # Under the system temp dir, as in the image: pytest's own tmp_path is private to root.
    ws = Workspace("01TWOUSER", base_dir=None, tool_path=os.environ["PATH"], git_timeout=30)
    ws.repo.mkdir()
    sandbox = await open_sandbox(ws, SandboxConfig(mode="two-user", command_uid=COMMAND_UID))
    yield ws, sandbox
    await sandbox.close()
    ws.remove()


async def test_commands_run_as_the_command_user_in_their_own_workspace(two_user, tmp_path: Path) -> None:
    ws, sandbox = two_user
    secret = tmp_path / "runtime-only.txt"
    secret.write_text("runtime secret")
    secret.chmod(0o600)
    result = await sandbox.run(f"id -u; touch made-here ~/in-home; cat {secret}; echo $HOME", timeout=10,
                               output_limit=5_000)
    lines = result.output.splitlines()
    assert lines[0] == str(COMMAND_UID) and "runtime secret" not in result.output
    assert "Permission denied" in result.output and lines[-1] == str(ws.home)
    assert (ws.repo / "made-here").stat().st_uid == COMMAND_UID and (ws.home / "in-home").exists()


async def test_the_runtime_process_is_not_readable_by_the_command_user(two_user) -> None:
    _, sandbox = two_user
    pid = os.getpid()
    result = await sandbox.run(f"cat /proc/{pid}/environ /proc/{pid}/cmdline 2>&1 | head -c 300", timeout=10,
                               output_limit=5_000)
    assert "Permission denied" in result.output and "PATH=" not in result.output

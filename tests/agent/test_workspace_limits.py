"""The workspace's total size and file count: a capped filesystem where the runtime is root, else the watchdog."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import AsyncIterator

import pytest

from agent.sandbox.quota import FilesystemQuota, WorkspaceQuota, open_quota, sweep_stale
from agent.sandbox.watchdog import QuotaLimits
from agent.tools.bash import BashTool
from agent.tools.editor import EditorTool
from agent.tools.policy import CommandPolicy
from agent.workspace import Workspace
from tests.agent.sandboxes import open_sandbox

LIMITS = QuotaLimits(max_bytes=48 << 20, max_files=2_000)
can_mount = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("mkfs.ext4", path="/usr/sbin:/sbin") is None
                               or not os.path.exists("/dev/loop-control"),
                               reason="a capped filesystem needs root, mkfs.ext4 and loop devices")
# Writes slow enough for the watchdog to see them pass the limit while the command runs.
SLOW_BYTES = "for i in $(seq 120); do head -c 1048576 /dev/zero > f$i || exit 9; sleep 0.03; done"
SLOW_FILES = "mkdir d && for i in $(seq 4000); do : > d/f$i || exit 9; [ $((i % 100)) = 0 ] && sleep 0.05; done"


async def _task(tmp_path: Path, quota: WorkspaceQuota) -> tuple[Workspace, BashTool]:
    ws = Workspace("01TESTQUOTA", base_dir=tmp_path, tool_path=os.environ["PATH"], git_timeout=30, root=quota.root)
    ws.repo.mkdir()
    ws.sandbox = quota.guard(await open_sandbox(ws, task_id="01TESTQUOTA"))
    policy = CommandPolicy(ws.repo, "main", home=ws.home, extra_roots=[ws.tmp, ws.home])
    return ws, BashTool(ws.repo, ws.sandbox, policy, timeout=60, output_limit=5_000)


@pytest.fixture
async def capped(tmp_path: Path) -> AsyncIterator[tuple[Workspace, BashTool, WorkspaceQuota]]:
    quota = open_quota(tmp_path, "01TESTQUOTA", LIMITS)
    ws, bash = await _task(tmp_path, quota)
    yield ws, bash, quota
    assert ws.sandbox is not None
    await ws.sandbox.close()
    quota.release()
    ws.remove()


@pytest.fixture
async def watched(tmp_path: Path) -> AsyncIterator[tuple[Workspace, BashTool, WorkspaceQuota]]:
    quota = open_quota(tmp_path, "01TESTQUOTA", LIMITS, mode="watchdog", interval=0.2)
    ws, bash = await _task(tmp_path, quota)
    yield ws, bash, quota
    assert ws.sandbox is not None
    await ws.sandbox.close()
    quota.release()
    ws.remove()


@can_mount
async def test_the_capped_filesystem_ends_a_command_that_writes_past_the_size(capped, tmp_path: Path) -> None:
    ws, bash, quota = capped
    assert quota.mechanism == "filesystem" and os.path.ismount(ws.root)
    filled = await bash.run({"command": "head -c 100000000 /dev/zero > big"})
    assert "No space left on device" in filled.text and "[exit code: 1]" in filled.text
    assert (ws.repo / "big").stat().st_size < 48 << 20
    editor = EditorTool(ws.repo, max_characters=2_000)
    refused = await editor.run({"command": "create", "path": "notes.txt", "file_text": "x" * 100_000})
    assert refused.is_error and "No space left on device" in refused.text
    # The run goes on: freeing room is enough.
    assert (await bash.run({"command": "rm big && echo fine > after.txt && cat after.txt"})).text == "fine"


@can_mount
async def test_the_capped_filesystem_ends_a_command_that_makes_too_many_files(capped) -> None:
    ws, bash, _ = capped
    made = await bash.run({"command": "mkdir d && for i in $(seq 4000); do : > d/f$i || exit 9; done"})
    assert "No space left on device" in made.text and "[exit code: 9]" in made.text
    assert len(os.listdir(ws.repo / "d")) < 2_000
    assert (await bash.run({"command": "rm -r d && echo fine"})).text == "fine"


@can_mount
async def test_the_workspace_is_unmounted_and_deleted_at_the_end(tmp_path: Path) -> None:
    quota = open_quota(tmp_path, "01TESTQUOTA", LIMITS)
    ws = Workspace("01TESTQUOTA", base_dir=tmp_path, tool_path=os.environ["PATH"], git_timeout=30, root=quota.root)
    (ws.home / "file").write_text("x")
    assert (tmp_path / f"{ws.root.name}.img").stat().st_mode & 0o077 == 0  # the raw image is root's alone
    quota.release()
    ws.remove()
    assert not os.path.ismount(ws.root) and list(tmp_path.iterdir()) == []


@can_mount
async def test_a_mount_left_by_a_dead_runtime_is_removed_by_the_next(tmp_path: Path) -> None:
    dead = FilesystemQuota.mount(tmp_path, "01DEADTASK", LIMITS)
    (dead.root / "repo").mkdir()
    (tmp_path / f"{dead.root.name}.owner").write_text("999999999 1")  # a process that no longer exists
    alive = open_quota(tmp_path, "01LIVETASK", LIMITS)  # the next runtime, on the same host
    try:
        assert not os.path.ismount(dead.root) and not dead.root.exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            [alive.root.name, f"{alive.root.name}.img", f"{alive.root.name}.owner"])
        assert sweep_stale(tmp_path) == [] and os.path.ismount(alive.root)  # a live runtime's mount stays
    finally:
        alive.release()
        alive.root.rmdir()


async def test_the_watchdog_stops_a_command_that_writes_past_the_size(watched) -> None:
    ws, bash, quota = watched
    assert quota.mechanism == "watchdog" and quota.why_watchdog
    stopped = await bash.run({"command": SLOW_BYTES})
    assert stopped.is_error and "BGAGENT_WORKSPACE_MAX_MB" in stopped.text and "command was stopped" in stopped.text
    assert len(list(ws.repo.glob("f*"))) < 120
    # Cleaning up is not stopped (it shrinks the workspace), and then the run goes on.
    assert (await bash.run({"command": "rm f* && echo fine"})).text == "fine"
    assert (await bash.run({"command": "echo again"})).text == "again"


async def test_the_watchdog_stops_a_command_that_makes_too_many_files(watched) -> None:
    ws, bash, _ = watched
    stopped = await bash.run({"command": SLOW_FILES})
    assert stopped.is_error and "BGAGENT_WORKSPACE_MAX_FILES" in stopped.text
    assert len(os.listdir(ws.repo / "d")) < 4_000
    assert (await bash.run({"command": "rm -r d && echo fine"})).text == "fine"


async def test_the_watchdog_reports_a_command_quicker_than_its_interval(tmp_path: Path) -> None:
    quota = open_quota(tmp_path, "01TESTQUOTA", LIMITS, mode="watchdog", interval=60)
    ws, bash = await _task(tmp_path, quota)
    try:
        over = await bash.run({"command": "head -c 60000000 /dev/zero > big && echo written"})
        assert over.is_error and "BGAGENT_WORKSPACE_MAX_MB" in over.text and "after this command" in over.text
        assert "written" in over.text
    finally:
        assert ws.sandbox is not None
        await ws.sandbox.close()
        ws.remove()

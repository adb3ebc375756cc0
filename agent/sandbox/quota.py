"""A total size and entry limit on a task's workspace (clone, home, temp dir).

Where the runtime is root and the host has loop devices, the workspace root is a filesystem of its own:
a sparse image file, `mkfs.ext4 -N <max files>`, loop-mounted `nodev,nosuid`. A command that writes past
it gets ENOSPC, and so does the runtime's editor. Elsewhere (an ordinary user, Fargate) the watchdog
stops commands instead (agent/sandbox/watchdog.py), which is weaker.

A runtime that dies leaves its mount behind: each root directory has an `<root>.owner` file naming the
process that made it, and the next runtime to open a workspace in the same directory unmounts and
deletes the workspaces of owners that are gone.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Literal, Protocol

from agent.sandbox.errors import QuotaUnavailable
from agent.sandbox.protocol import Sandbox
from agent.sandbox.watchdog import QuotaLimits, WatchedSandbox
from shared.compute.pids import pid_alive, start_time

log = logging.getLogger(__name__)
_TOOLS_PATH = "/usr/sbin:/sbin:/usr/bin:/bin"
_INODE_BYTES = 256  # ext4's inode size: the image grows by the inode table, so the data keeps its room
_COMMAND_SECONDS = 60.0
QuotaMode = Literal["auto", "watchdog"]


class WorkspaceQuota(Protocol):
    """A workspace root with its limits enforced, and how they are enforced."""

    root: Path
    mechanism: Literal["filesystem", "watchdog"]
    why_watchdog: str | None  # why no capped filesystem could be used

    def guard(self, sandbox: Sandbox) -> Sandbox:
        """The sandbox to run the task's commands in, held to the limits."""
        ...

    def release(self) -> None:
        """Drop the mount, if any (the root directory itself stays for its owner to delete)."""
        ...


def workspace_root(base: Path | None, task_id: str) -> Path:
    """A new private directory for one task's workspace."""
    return Path(tempfile.mkdtemp(prefix=f"bgagent-{task_id[-8:]}-", dir=base)).resolve()


def open_quota(base: Path | None, task_id: str, limits: QuotaLimits, *, mode: QuotaMode = "auto",
               interval: float = 2.0) -> WorkspaceQuota:
    """The task's workspace root: a capped filesystem where one can be mounted, else a watched directory."""
    base = (base or Path(tempfile.gettempdir())).resolve()
    base.mkdir(parents=True, exist_ok=True)
    if mode == "watchdog":
        reason = "BGAGENT_WORKSPACE_QUOTA=watchdog"
    elif os.geteuid() != 0:
        reason = "the runtime is not root, so it cannot mount a filesystem"
    else:
        sweep_stale(base)
        try:
            return FilesystemQuota.mount(base, task_id, limits)
        except QuotaUnavailable as exc:
            reason = str(exc)
    return WatchdogQuota(workspace_root(base, task_id), limits, interval, reason)


class WatchdogQuota:
    """A plain directory; the watchdog holds commands to the limits."""

    mechanism: Literal["filesystem", "watchdog"] = "watchdog"

    def __init__(self, root: Path, limits: QuotaLimits, interval: float, why: str):
        self.root = root
        self.why_watchdog: str | None = why
        self._limits = limits
        self._interval = interval

    def guard(self, sandbox: Sandbox) -> Sandbox:
        return WatchedSandbox(sandbox, self.root, self._limits, interval=self._interval)

    def release(self) -> None:
        return None


class FilesystemQuota:
    """The workspace root as a loop-mounted ext4 image of the limits' size and inode count."""

    mechanism: Literal["filesystem", "watchdog"] = "filesystem"
    why_watchdog: str | None = None

    def __init__(self, root: Path):
        self.root = root

    @classmethod
    def mount(cls, base: Path, task_id: str, limits: QuotaLimits) -> FilesystemQuota:
        """Make, format and mount the image over a new workspace root; QuotaUnavailable if the host cannot."""
        root = workspace_root(base, task_id)
        image, owner = _image(root), _owner(root)
        owner.write_text(_identity(os.getpid()))
        try:
            # Root's alone: the raw image would show a command user the workspace's deleted files too.
            with os.fdopen(os.open(image, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), "wb") as handle:
                handle.truncate(limits.max_bytes + limits.max_files * _INODE_BYTES)  # sparse: costs what is used
            _run("mkfs.ext4", "-q", "-F", "-N", str(limits.max_files), "-m", "0", "-O", "^has_journal",
                 "-E", "root_owner=0:0,nodiscard", str(image))
            _run("mount", "-o", "loop,nodev,nosuid,noatime", str(image), str(root))
        except QuotaUnavailable:
            _discard(root)
            raise
        except OSError as exc:  # e.g. no room for the image's metadata on the host's disk
            _discard(root)
            raise QuotaUnavailable(f"the workspace image could not be made: {exc}") from exc
        (root / "lost+found").rmdir()
        root.chmod(0o700)
        return cls(root)

    def guard(self, sandbox: Sandbox) -> Sandbox:
        return sandbox  # the filesystem itself says no

    def release(self) -> None:
        try:
            _unmount(self.root)
        except QuotaUnavailable as exc:
            log.error("could not unmount the workspace %s; the next runtime's sweep retries: %s", self.root, exc)
            return
        _image(self.root).unlink(missing_ok=True)
        _owner(self.root).unlink(missing_ok=True)


def sweep_stale(base: Path) -> list[Path]:
    """Unmount and delete the workspaces in `base` whose runtime is gone; the roots it removed."""
    removed = []
    for owner in base.glob("bgagent-*.owner"):
        try:
            if _alive(owner.read_text()):
                continue
        except OSError:
            continue  # its owner is deleting it right now
        root = base / owner.name.removesuffix(".owner")
        try:
            _unmount(root)
        except QuotaUnavailable as exc:
            log.warning("could not unmount the stale workspace %s: %s", root, exc)
            continue
        shutil.rmtree(root, ignore_errors=True)
        _image(root).unlink(missing_ok=True)
        owner.unlink(missing_ok=True)
        removed.append(root)
    if removed:
        log.warning("removed %d workspace(s) left mounted by runtimes that died: %s", len(removed),
                    ", ".join(map(str, removed)))
    return removed


def _discard(root: Path) -> None:
    """Undo a mount that did not succeed."""
    _image(root).unlink(missing_ok=True)
    _owner(root).unlink(missing_ok=True)
    root.rmdir()


def _image(root: Path) -> Path:
    return root.with_name(root.name + ".img")


def _owner(root: Path) -> Path:
    return root.with_name(root.name + ".owner")


def _identity(pid: int) -> str:
    """A process's pid and start time: a reused pid is not mistaken for the process that made the mount."""
    return f"{pid} {start_time(pid)}"


def _alive(identity: str) -> bool:
    pid, _, started = identity.strip().partition(" ")
    return pid.isdigit() and pid_alive(int(pid), started or None)


def _unmount(root: Path) -> None:
    """Unmount `root` if it is a mount point; lazily when something still holds it open."""
    if not os.path.ismount(root):
        return
    try:
        _run("umount", str(root))
    except QuotaUnavailable:
        _run("umount", "-l", str(root))  # detached now, freed when the last holder lets go


def _run(*argv: str) -> None:
    tool = shutil.which(argv[0], path=_TOOLS_PATH)
    if tool is None:
        raise QuotaUnavailable(f"{argv[0]} is not installed")
    try:
        done = subprocess.run([tool, *argv[1:]], capture_output=True, text=True, timeout=_COMMAND_SECONDS,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise QuotaUnavailable(f"{argv[0]} timed out") from exc
    if done.returncode != 0:
        raise QuotaUnavailable(f"{argv[0]} failed: {(done.stderr or done.stdout).strip()[-300:]}")

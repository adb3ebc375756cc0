"""The workspace watchdog: where no capped filesystem can be mounted, the runtime measures the workspace
while a command runs and stops the command once the workspace passes its limits.

Weaker than the filesystem: a command writes freely between two measurements (a few seconds), so the
workspace can end up over its limits; the model is then told, and the next command that grows it is stopped.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from dataclasses import dataclass
from pathlib import Path

from agent.process import ProcessResult
from agent.sandbox.protocol import Sandbox, SandboxSession, SessionSpec


@dataclass(frozen=True)
class QuotaLimits:
    """The most a task's workspace (clone, home, temp dir) may hold, in disk use and in entries."""

    max_bytes: int
    max_files: int


@dataclass(frozen=True)
class Usage:
    """What a workspace holds: disk blocks in use and entries (files, directories, links)."""

    bytes: int
    files: int


def measure(root: Path, max_files: int) -> Usage:
    """The workspace's usage, walking no further than one entry past `max_files` (a bounded cost)."""
    used, files, pending = 0, 0, [str(root)]
    while pending and files <= max_files:
        try:
            scan = os.scandir(pending.pop())
        except OSError:
            continue  # removed, or unreadable, while we looked
        with scan:
            for entry in scan:
                files += 1
                try:
                    used += entry.stat(follow_symlinks=False).st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                except OSError:
                    continue
                if files > max_files:
                    break
    return Usage(used, files)


def over_limits(usage: Usage, limits: QuotaLimits) -> str | None:
    """Why `usage` is over `limits`, or None."""
    if usage.files > limits.max_files:
        return (f"the workspace holds more than {limits.max_files:,} files and directories "
                "(BGAGENT_WORKSPACE_MAX_FILES)")
    if usage.bytes > limits.max_bytes:
        return (f"the workspace uses {usage.bytes >> 20:,} MB of disk, over its limit of {limits.max_bytes >> 20:,} MB "
                "(BGAGENT_WORKSPACE_MAX_MB)")
    return None


class WatchedSandbox:
    """A sandbox whose commands are stopped when the workspace passes its limits while they run."""

    def __init__(self, inner: Sandbox, root: Path, limits: QuotaLimits, *, interval: float):
        self.mode = inner.mode
        self._inner = inner
        self._root = root
        self._limits = limits
        self._interval = interval
        self._last = Usage(0, 0)  # a command that shrinks an oversized workspace must be left to finish
        self._walk_seconds = 0.0

    async def run(self, command: str, *, timeout: float, output_limit: int,
                  data_fd: int | None = None) -> ProcessResult:
        job = asyncio.ensure_future(self._inner.run(command, timeout=timeout, output_limit=output_limit,
                                                    data_fd=data_fd))
        try:
            while not job.done():
                # The walk costs time on a big tree: at most a fifth of the runtime's time goes to it.
                await asyncio.wait({job}, timeout=max(self._interval, 4 * self._walk_seconds))
                if job.done():
                    break
                reason = await self._grown_past_limits()
                if reason is not None:
                    job.cancel()  # run_process kills the command's whole process group (the sandbox)
                    await asyncio.gather(job, return_exceptions=True)
                    return ProcessResult(None, "", stopped=f"{reason}; the command was stopped. "
                                                           "Delete files the task does not need, then go on")
        finally:
            if not job.done():  # we were cancelled ourselves
                job.cancel()
                await asyncio.gather(job, return_exceptions=True)
        result = job.result()
        reason = await self._grown_past_limits(growing_only=False)  # a command quicker than one interval
        if reason is not None:
            return dataclasses.replace(result, stopped=f"{reason} after this command. Delete files the task does "
                                                       "not need before going on")
        return result

    async def start(self, spec: SessionSpec) -> SandboxSession:
        """A session is not watched command by command: only a capped filesystem bounds an engine's CLI."""
        return await self._inner.start(spec)

    async def _grown_past_limits(self, *, growing_only: bool = True) -> str | None:
        started = time.monotonic()
        usage = await asyncio.to_thread(measure, self._root, self._limits.max_files)
        self._walk_seconds = time.monotonic() - started
        grew = usage.bytes > self._last.bytes or usage.files > self._last.files
        self._last = usage
        return over_limits(usage, self._limits) if grew or not growing_only else None

    async def close(self) -> None:
        await self._inner.close()

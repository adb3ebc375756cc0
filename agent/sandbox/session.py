"""A long-lived process in the task's sandbox with its stdio piped to the runtime (an engine's CLI)."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

from agent.process import ChildSetup

_STOP_WAIT = 5.0
# The CLI's control protocol can carry large lines (a file it read); the reader's own limit, not ours.
_STREAM_LIMIT = 16 << 20


class ProcessSession:
    """The process, started in its own session; stop() kills its whole process group.

    `sweep_uid`: a uid that runs nothing but this session (the two-user sandbox's command user): stop() also
    kills every process it has, since without a pid namespace a child may have left the group (setsid).
    """

    def __init__(self, proc: asyncio.subprocess.Process, *, sweep_uid: int | None = None,
                 servers: tuple[asyncio.Server, ...] = ()):
        self._proc = proc
        self._sweep_uid = sweep_uid
        self._servers = servers  # what the runtime serves the session (its sockets on loopback), closed with it
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        self.stdin: asyncio.StreamWriter = proc.stdin
        self.stdout: asyncio.StreamReader = proc.stdout
        self.stderr: asyncio.StreamReader = proc.stderr

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode

    async def wait(self) -> int:
        return await self._proc.wait()

    async def stop(self) -> None:
        """SIGKILL the group: bwrap goes, and its pid namespace takes every process inside with it."""
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self._sweep_uid is not None:
            _kill_all_of(self._sweep_uid)
        for server in self._servers:
            server.close()
        try:
            await asyncio.wait_for(self._proc.wait(), _STOP_WAIT)
        except TimeoutError:
            pass


def _kill_all_of(uid: int, proc: Path = Path("/proc")) -> None:
    for entry in proc.iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue  # exited while we looked


async def start_session(argv: list[str], *, cwd: Path, env: dict[str, str], child: ChildSetup,
                        sweep_uid: int | None = None, servers: tuple[asyncio.Server, ...] = ()) -> ProcessSession:
    """Start argv with pipes on stdin, stdout and stderr, the child's user and limits applied."""
    as_user: dict[str, Any] = {} if child.user is None else {
        "user": child.user, "group": child.group, "extra_groups": []}
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env, start_new_session=True, preexec_fn=child.before_exec, limit=_STREAM_LIMIT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, **as_user)
    return ProcessSession(proc, sweep_uid=sweep_uid, servers=servers)

"""Running a child process with a deadline, a bounded output buffer and its whole process group."""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

# Bytes kept from each end of the output; what lies between is counted, not stored.
_CHUNK = 65_536
_DRAIN_SECONDS = 2.0


@dataclass(frozen=True)
class ProcessResult:
    """How a child process ended and what it printed (stdout and stderr interleaved)."""

    exit_code: int | None
    output: str
    timed_out: bool = False
    omitted_bytes: int = 0
    output_exceeded: bool = False
    stopped: str | None = None  # why the runtime stopped or failed the command (the workspace watchdog)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and self.stopped is None


class _BoundedBuffer:
    """Keeps the first and last `limit` bytes of a stream and counts the rest."""

    def __init__(self, limit: int):
        self._limit = limit
        self._head = bytearray()
        self._tail = bytearray()
        self.omitted = 0
        self.total = 0

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self._limit - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        self._tail += data
        if len(self._tail) > self._limit:
            cut = len(self._tail) - self._limit
            self.omitted += cut
            del self._tail[:cut]

    def text(self) -> str:
        head = self._head.decode("utf-8", "replace")
        tail = self._tail.decode("utf-8", "replace")
        if self.omitted:
            return f"{head}\n[... {self.omitted} bytes of output omitted ...]\n{tail}"
        return head + tail


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass(frozen=True)
class ChildSetup:
    """How the child starts: the user it runs as and what runs in it just before exec (limits)."""

    user: int | None = None
    group: int | None = None
    before_exec: Callable[[], None] | None = None
    max_output_bytes: int | None = None  # past this much output the command is stopped
    pass_fds: tuple[int, ...] = ()


def with_data_fd(child: ChildSetup, fd: int | None) -> ChildSetup:
    """The same start, also handing the child `fd` (under its own number)."""
    return child if fd is None else replace(child, pass_fds=(*child.pass_fds, fd))


async def run_process(
    argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float,
    stdin: bytes | int | None = None, output_limit: int = _CHUNK, child: ChildSetup = ChildSetup(),
) -> ProcessResult:
    """Run argv in its own session; on timeout or cancellation kill its whole process group.

    `stdin`: bytes to write, or an open descriptor the child reads from directly.
    """
    as_user: dict[str, Any] = {} if child.user is None else {
        "user": child.user, "group": child.group, "extra_groups": []}
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env, start_new_session=True, preexec_fn=child.before_exec, pass_fds=child.pass_fds,
        **as_user,
        stdin=stdin if isinstance(stdin, int) else asyncio.subprocess.PIPE if stdin is not None
        else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    buffer = _BoundedBuffer(output_limit)

    async def read_all() -> None:
        assert proc.stdout is not None
        while chunk := await proc.stdout.read(_CHUNK):
            buffer.feed(chunk)
            if child.max_output_bytes is not None and buffer.total > child.max_output_bytes:
                _kill_group(proc)  # gigabytes of output must not cost the runtime minutes of reading
                return

    async def exited() -> None:
        # Process.wait() also waits for the pipes to close, which a background job holding
        # stdout would delay until the deadline: watch the exit status itself.
        delay = 0.002
        while proc.returncode is None:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    async def feed_and_wait() -> None:
        if isinstance(stdin, bytes) and proc.stdin is not None:
            try:
                proc.stdin.write(stdin)
                await proc.stdin.drain()
                proc.stdin.close()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the command did not read its input; its exit code tells the rest
        watcher = asyncio.ensure_future(exited())
        try:
            await asyncio.wait({reader, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watcher.cancel()
        await exited()

    reader = asyncio.create_task(read_all())
    timed_out = False
    try:
        await asyncio.wait_for(feed_and_wait(), timeout)
    except TimeoutError:
        timed_out = True
    finally:
        # Also on cancellation, and for background jobs (`cmd &`) that share the group:
        # nothing a command started outlives it, and the output pipe reaches EOF.
        _kill_group(proc)
        await exited()
        try:
            await asyncio.wait_for(asyncio.shield(reader), _DRAIN_SECONDS)
        except TimeoutError:
            reader.cancel()  # a process that left the group still holds the pipe
    exceeded = child.max_output_bytes is not None and buffer.total > child.max_output_bytes
    return ProcessResult(None if timed_out else proc.returncode, buffer.text(), timed_out=timed_out,
                         omitted_bytes=buffer.omitted, output_exceeded=exceeded)

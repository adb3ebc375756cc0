"""The SDK's transport to a CLI running in the task's sandbox: its stdio is the control protocol's only channel.

Whatever the CLI does wrong ends here as a `failure` the engine reads: it exited, it wrote something that is
not a JSON message on stdout, or it stayed silent past the idle limit while no runtime decision was pending.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from claude_agent_sdk import CLIConnectionError
from claude_agent_sdk._internal.transport import Transport

from agent.sandbox.protocol import Sandbox, SandboxSession, SessionSpec
from shared.observability.redaction import redact

_GARBAGE_SHOWN = 200
_STDERR_LINE_CHARS = 2_000


class SessionFailed(Exception):
    """The CLI crashed, hung or broke the protocol; str() says which."""


class Pending:
    """Runtime decisions in progress (an approval): the CLI waits on us, so its silence is no hang."""

    def __init__(self) -> None:
        self.count = 0

    @contextmanager
    def hold(self) -> Iterator[None]:
        self.count += 1
        try:
            yield
        finally:
            self.count -= 1


class SandboxTransport(Transport):
    """Starts the CLI with `sandbox.start(spec)` and reads its NDJSON stdout, watching it for failure."""

    def __init__(self, sandbox: Sandbox, spec: SessionSpec, *, idle_seconds: float, pending: Pending,
                 stderr_lines: int = 40):
        self._sandbox = sandbox
        self._spec = spec
        self._idle = idle_seconds
        self._session: SandboxSession | None = None
        self._stderr: deque[str] = deque(maxlen=stderr_lines)
        self._stderr_task: asyncio.Task[None] | None = None
        self._pending = pending
        self.failure: str | None = None
        self.stopped: str | None = None  # why the runtime stopped the CLI (cancel), if it did

    def stderr_tail(self) -> str:
        """The CLI's last stderr lines, redacted."""
        return redact("\n".join(self._stderr))

    async def connect(self) -> None:
        if self._session is None:
            self._session = await self._sandbox.start(self._spec)
            self._stderr_task = asyncio.create_task(self._read_stderr(self._session))

    async def _read_stderr(self, session: SandboxSession) -> None:
        while True:
            try:
                line = await session.stderr.readline()
            except ValueError:  # a line past the reader's limit: keep its head, go on
                line = b"[an over-long line]"
            if not line:
                return
            self._stderr.append(line.decode("utf-8", "replace").rstrip()[:_STDERR_LINE_CHARS])

    async def write(self, data: str) -> None:
        session = self._session
        if session is None or session.returncode is not None:
            raise CLIConnectionError("the Claude Code CLI is not running")
        try:
            session.stdin.write(data.encode())
            await session.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise CLIConnectionError(f"the Claude Code CLI closed its input: {exc}") from exc

    def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[dict[str, Any]]:
        session = self._session
        if session is None:
            raise CLIConnectionError("not connected")
        while True:
            line = await self._next_line(session)
            if not line:
                break
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except ValueError:
                message = None
            if not isinstance(message, dict):
                self._fail(f"the Claude Code CLI wrote something that is not a message on its output: "
                           f"{redact(line[:_GARBAGE_SHOWN].decode('utf-8', 'replace'))!r}")
            yield message
        code = await session.wait()
        if code != 0 and self.stopped is None:
            self._fail(f"the Claude Code CLI exited with status {code}")

    async def _next_line(self, session: SandboxSession) -> bytes:
        """The next stdout line; a silence past the idle limit (no decision pending) is a hang."""
        quiet_since = time.monotonic()
        while True:
            try:
                return await asyncio.wait_for(session.stdout.readline(), timeout=self._idle / 4)
            except TimeoutError:
                if self._pending.count:
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since >= self._idle:
                    await session.stop()
                    self._fail(f"the Claude Code CLI wrote nothing for {self._idle:.0f} s and was stopped")
            except ValueError:  # a line past the reader's limit
                await session.stop()
                self._fail("the Claude Code CLI wrote an over-long line on its output")

    def _fail(self, why: str) -> NoReturn:
        self.failure = self.failure or why
        raise SessionFailed(why)

    async def stop(self, reason: str) -> None:
        """Stop the CLI and every process it started (cancel)."""
        self.stopped = self.stopped or reason
        if self._session is not None:
            await self._session.stop()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.stop()
        if self._stderr_task is not None:
            try:
                await asyncio.wait_for(self._stderr_task, 2.0)
            except TimeoutError:
                self._stderr_task.cancel()

    def is_ready(self) -> bool:
        return self._session is not None and self._session.returncode is None

    async def end_input(self) -> None:
        if self._session is not None:
            self._session.stdin.close()

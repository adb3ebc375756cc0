"""The dispatcher's side of the warm workers: starts the zygote, asks it for sessions, restarts it if it died."""

from __future__ import annotations

import json
import os
import select
import subprocess
import threading
import time
from pathlib import Path

_READY_SECONDS = 60.0  # the zygote imports the agent first: seconds on a loaded machine
_ANSWER_SECONDS = 10.0
_COOL_DOWN_SECONDS = 60.0  # after a zygote failed, sessions start cold this long before it is tried again


def read_line(fd: int, timeout: float | None = None) -> bytes:
    """One newline-ended message from a pipe; b"" at its end or when nothing came within `timeout`."""
    data = b""
    while not data.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], timeout)
        chunk = os.read(fd, 4096) if ready else b""
        if not chunk:
            return b""
        data += chunk
    return data


class WarmPoolUnavailable(Exception):
    """The zygote could not start a session (it failed to start, died, or refused); start one cold."""


class WarmPool:
    """One zygote per dispatcher, spoken to over its stdin/stdout; only its parent can start sessions."""

    def __init__(self, python: str, agent_module: str, env: dict[str, str], log: Path, *,
                 size: int, idle_seconds: float):
        self._cmd = [python, "-m", "shared.compute.zygote", "--agent-module", agent_module,
                     "--size", str(size), "--idle-seconds", str(idle_seconds)]
        self._env = env
        self._log = log
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._ready = False
        self._down_until = 0.0

    def warm(self) -> None:
        """Start the zygote now, so the first task does not pay for its imports."""
        with self._lock:
            self._ensure(wait=False)

    def start(self, task_id: str, log: Path, record: Path) -> int:
        """The pid of a new session's supervisor, running the agent for task_id with output to log.

        The supervisor also writes its pid into `record`, so a start whose answer is lost is not lost.
        """
        request = json.dumps({"task_id": task_id, "log": str(log), "record": str(record)}).encode() + b"\n"
        with self._lock:
            if time.monotonic() < self._down_until:
                raise WarmPoolUnavailable("the warm-worker zygote failed recently")
            for _ in range(2):  # a zygote that died since the last start is replaced once
                try:
                    proc = self._ensure(wait=True)
                    assert proc.stdin is not None
                    proc.stdin.write(request)
                    proc.stdin.flush()
                    answer = self._answer(proc, _ANSWER_SECONDS)
                except (BrokenPipeError, ConnectionError, EOFError):
                    self._discard()
                    continue
                if "pid" in answer:
                    return int(answer["pid"])
                self._down_until = time.monotonic() + _COOL_DOWN_SECONDS
                raise WarmPoolUnavailable(f"the warm worker refused the session: {answer}")
            self._down_until = time.monotonic() + _COOL_DOWN_SECONDS
            raise WarmPoolUnavailable(f"the warm-worker zygote did not start or keeps dying; see {self._log}")

    def _ensure(self, *, wait: bool) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._discard()
            # In the dispatcher's process group: whatever kills the dispatcher's group kills its zygote
            # too (sessions are in sessions of their own and go on).
            with open(self._log, "ab") as log:
                self._proc = subprocess.Popen(self._cmd, env=self._env, stdin=subprocess.PIPE,
                                              stdout=subprocess.PIPE, stderr=log)
            self._ready = False
        if wait and not self._ready:
            self._answer(self._proc, _READY_SECONDS)  # EOFError: it died while importing
            self._ready = True
        return self._proc

    @staticmethod
    def _answer(proc: subprocess.Popen[bytes], timeout: float) -> dict:
        assert proc.stdout is not None
        line = read_line(proc.stdout.fileno(), timeout)
        if not line:
            raise EOFError("no answer from the zygote")
        return json.loads(line)

    def _discard(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            for pipe in (self._proc.stdin, self._proc.stdout):
                if pipe is not None:
                    pipe.close()
        self._proc = None

    def close(self) -> None:
        """Stop the zygote and its idle workers (running sessions go on)."""
        with self._lock:
            self._discard()

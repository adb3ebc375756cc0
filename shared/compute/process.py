"""The `process` compute strategy: one supervised local process per agent session.

With a warm pool the supervisor and the agent are forks of a pre-imported zygote (shared.compute.zygote);
without one, each session starts two fresh interpreters (`python -m shared.compute.supervisor -- python -m agent`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from shared.compute.errors import ComputeStartFailed
from shared.compute.pids import cmdline, pid_alive
from shared.compute.pool import WarmPool, WarmPoolUnavailable
from shared.compute.protocol import SessionState
from shared.compute.records import read_record, write_record

log = logging.getLogger(__name__)

PREFIX = "process:"
_ABANDONED_SECONDS = 10.0  # longer than a zygote takes to hand a written request to a worker
# What a session's supervisor runs as: a fresh interpreter, or a fork of the warm-worker zygote.
SESSION_MODULES = ("shared.compute.supervisor", "shared.compute.zygote")


class ProcessCompute:
    """Starts `python -m agent` under a supervisor that reports the session's end on the bus."""

    def __init__(self, runtime_dir: Path, env: dict[str, str], *, python: str = sys.executable,
                 agent_module: str = "agent", warm_pool: WarmPool | None = None):
        self._dir = Path(runtime_dir)
        self._env = env
        self._python = python
        self._agent_module = agent_module
        self._pool = warm_pool
        (self._dir / "sessions").mkdir(parents=True, exist_ok=True)
        (self._dir / "logs").mkdir(parents=True, exist_ok=True)

    @classmethod
    def warm(cls, runtime_dir: Path, env: dict[str, str], *, agent_module: str, size: int,
             idle_seconds: float) -> ProcessCompute:
        """A strategy that starts sessions from warm workers, their zygote started now."""
        logs = Path(runtime_dir) / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        pool = WarmPool(sys.executable, agent_module, env, logs / "zygote.log", size=size, idle_seconds=idle_seconds)
        pool.warm()
        return cls(runtime_dir, env, agent_module=agent_module, warm_pool=pool)

    def _session_file(self, task_id: str) -> Path:
        return self._dir / "sessions" / f"{task_id}.json"

    def log_file(self, task_id: str) -> Path:
        return self._dir / "logs" / f"agent-{task_id}.log"

    async def start(self, task_id: str) -> str:
        return await asyncio.to_thread(self._start, task_id)

    def _start(self, task_id: str, *, took_over: bool = False) -> str:
        record = self._session_file(task_id)
        try:
            fd = os.open(record, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError as exc:
            # Like ECS's clientToken: a redelivered start finds the session already there.
            existing = read_record(record)
            if "pid" in existing:
                return f"{PREFIX}{existing['pid']}"
            if not took_over and _abandoned(record, existing):
                # Its starter died before any session was asked for (a session writes its own pid here).
                record.unlink(missing_ok=True)
                return self._start(task_id, took_over=True)
            raise ComputeStartFailed(f"session of {task_id} is being started elsewhere", retryable=True) from exc
        with os.fdopen(fd, "w") as f:
            json.dump({"starting": os.getpid(), "task_id": task_id}, f)
        try:
            pid = self._spawn(task_id, record)
        except BaseException as exc:
            # Whatever stopped the start, an unfinished record would answer "being started elsewhere".
            record.unlink(missing_ok=True)
            if isinstance(exc, (OSError, ValueError, TypeError)):
                raise ComputeStartFailed(f"could not start agent process: {exc}", retryable=False) from exc
            raise
        write_record(record, pid, task_id)
        return f"{PREFIX}{pid}"

    def _spawn(self, task_id: str, record: Path) -> int:
        """Start the session's supervisor (a warm worker if there is one); its pid."""
        if self._pool is not None:
            try:
                return self._pool.start(task_id, self.log_file(task_id), record)
            except WarmPoolUnavailable as exc:
                started = read_record(record).get("pid")  # a worker took it, and only the answer was lost
                if isinstance(started, int):
                    return started
                log.warning("starting the session cold: %s", exc)
        cmd = [self._python, "-m", "shared.compute.supervisor", "--task-id", task_id, "--record", str(record), "--",
               self._python, "-m", self._agent_module, "--task-id", task_id]
        with open(self.log_file(task_id), "ab") as output:
            proc = subprocess.Popen(cmd, env={**self._env, "BGAGENT_TASK_ID": task_id}, stdout=output,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        threading.Thread(target=proc.wait, daemon=True).start()  # reap it when it ends
        return proc.pid

    @staticmethod
    def _pid(handle: str) -> int | None:
        if not handle.startswith(PREFIX):
            return None
        try:
            return int(handle[len(PREFIX):])
        except ValueError:
            return None

    async def stop(self, handle: str, *, reason: str) -> None:
        pid = self._pid(handle)
        if pid and is_session(pid):
            try:
                os.kill(pid, signal.SIGTERM)  # the supervisor forwards it and reports the end
            except ProcessLookupError:
                pass

    def close(self) -> None:
        """Let the warm workers go (sessions already running go on)."""
        if self._pool is not None:
            self._pool.close()

    def stop_all(self) -> int:
        """Stop every live session this runtime directory knows of (stack shutdown)."""
        self.close()
        pids = live_sessions(self._dir)
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
        return len(pids)

    async def describe(self, handle: str) -> SessionState:
        pid = self._pid(handle)
        if pid is None:
            return SessionState.UNKNOWN
        return SessionState.RUNNING if is_session(pid) else SessionState.STOPPED


def _abandoned(record: Path, existing: dict) -> bool:
    """A record whose starter is gone and that no session claimed for a while."""
    try:
        age = time.time() - record.stat().st_mtime
    except OSError:
        return False
    return age > _ABANDONED_SECONDS and not pid_alive(existing.get("starting"))


def live_sessions(runtime_dir: Path) -> list[int]:
    """The supervisors still running of the sessions recorded under this runtime directory."""
    pids = (read_record(record).get("pid") for record in (Path(runtime_dir) / "sessions").glob("*.json"))
    return [pid for pid in pids if isinstance(pid, int) and is_session(pid)]


def is_session(pid: object) -> bool:
    """Whether pid is a live (not zombie) session supervisor, not an unrelated process that reused the id."""
    return pid_alive(pid) and any(module in cmdline(pid) for module in SESSION_MODULES)  # type: ignore[arg-type]

"""Warm agent workers: one process pays the interpreter and the imports, then forks a fresh one per session.

`python -m shared.compute.zygote --agent-module M` reads start requests (one JSON line each) on stdin and
answers each with the pid of the session's supervisor on stdout. It keeps `--size` workers forked in
advance, each waiting for one assignment; an assigned worker becomes that session's supervisor (forwards
stops, reports the end on the bus) and forks the agent itself, so a session costs two forks instead of two
interpreters. A worker serves one session and exits: nothing of one task is left for the next. The zygote
never runs a task, holds no connection and starts no thread, so every fork starts from the same clean state.
It exits when its reader goes away (end of stdin).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import importlib
import importlib.util
import json
import os
import select
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from shared.compute import supervisor
from shared.compute.pool import read_line
from shared.compute.records import write_record

_PR_SET_PDEATHSIG = 1
_TICK_SECONDS = 0.5


def agent_entry(module: str) -> ModuleType:
    """Import the agent's entry module (`M.__main__` for a package) and run its prewarm(), once for all forks."""
    spec = importlib.util.find_spec(module)
    if spec is not None and spec.submodule_search_locations is not None:
        module = f"{module}.__main__"
    entry = importlib.import_module(module)
    if not callable(getattr(entry, "main", None)):
        raise SystemExit(f"{module} has no main(): it cannot run from a warm worker")
    prewarm = getattr(entry, "prewarm", None)
    if callable(prewarm):
        prewarm()  # lazy imports and parsed data the agent would otherwise pay for in every session
    return entry


class ForkedChild:
    """A forked process seen through the calls supervision makes (like subprocess.Popen's)."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        while self.returncode is None:
            try:
                _, status = os.waitpid(self.pid, 0)
            except ChildProcessError:
                break  # reaped by a poll() from a signal handler, which set the code
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode if self.returncode is not None else -signal.SIGKILL

    def send_signal(self, sig: int) -> None:
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


_STOPS = {signal.SIGTERM, signal.SIGINT}


def _die_with_parent() -> None:
    """The agent must not outlive its supervisor: nobody would report it, and stops could not reach it."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the reconciler still finds the supervisor gone


def _run_agent(entry: ModuleType, task_id: str, supervisor_pid: int) -> None:
    """In the agent's fork: run the agent's main() as `python -m M --task-id ID` would, then exit."""
    for sig in _STOPS:
        signal.signal(sig, signal.SIG_DFL)
    # A stop forwarded while we were being forked waited, blocked, for the line above: it now ends us, as it
    # would have ended a freshly exec'd agent (the supervisor's handler we inherited would have swallowed it).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)
    _die_with_parent()
    if os.getppid() != supervisor_pid:
        os._exit(1)  # the supervisor died before the line above took effect
    sys.argv = [entry.__name__, "--task-id", task_id]
    code: Any = 1
    try:
        code = entry.main()
    except SystemExit as exc:
        code = exc.code
    except BaseException:
        import traceback
        traceback.print_exc()
    finally:
        import logging
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
    os._exit(code if isinstance(code, int) else (0 if code is None else 1))


def _serve_session(entry: ModuleType, events: Any, assignment: dict[str, str]) -> int:
    """In an assigned worker: become the session's supervisor and fork its agent."""
    os.setsid()
    log = os.open(assignment["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.environ["BGAGENT_TASK_ID"] = assignment["task_id"]
    me = os.getpid()
    if assignment.get("record"):
        write_record(Path(assignment["record"]), me, assignment["task_id"])  # even if the dispatcher is gone

    def start() -> ForkedChild:
        sys.stdout.flush()
        sys.stderr.flush()
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)  # no stop lands between fork and SIG_DFL
        pid = os.fork()
        if pid == 0:
            _run_agent(entry, assignment["task_id"], me)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # ours arrives now; forwarded once the child is known
        return ForkedChild(pid)

    return supervisor.supervise(assignment["task_id"], start, events=events)


@dataclass
class _Idle:
    pid: int
    assign_fd: int


class Zygote:
    """Keeps `size` workers forked and waiting; hands each start request to one of them."""

    def __init__(self, entry: ModuleType, events: Any, *, size: int, idle_seconds: float):
        self._entry = entry
        self._events = events
        self._size = size
        self._idle_seconds = idle_seconds
        self._idle: list[_Idle] = []
        self._serving: dict[int, str] = {}  # worker pid -> the task it supervises
        self._last_start = time.monotonic()

    def _fork_worker(self) -> _Idle:
        read_fd, write_fd = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os._exit(self._worker(read_fd))
        os.close(read_fd)
        return _Idle(pid, write_fd)

    def _worker(self, read_fd: int) -> int:
        """In a worker: drop everything the zygote holds, wait for one assignment, serve it."""
        try:
            devnull = os.open(os.devnull, os.O_RDWR)
            os.dup2(devnull, 0)
            os.dup2(2, 1)  # never the zygote's answer pipe: its reader must see the zygote's end
            keep = sorted({0, 1, 2, read_fd})
            for low, high in zip(keep, keep[1:] + [os.sysconf("SC_OPEN_MAX")], strict=True):
                os.closerange(low + 1, high)  # siblings' assignment pipes, the zygote's own files
            line = read_line(read_fd)
            os.close(read_fd)
            if not line:
                return 0  # let go while idle
            return _serve_session(self._entry, self._events, json.loads(line))
        except BaseException:
            import traceback
            traceback.print_exc()
            return 1

    def _assign(self, request: dict[str, str]) -> dict[str, Any]:
        while True:
            worker = self._idle.pop(0) if self._idle else self._fork_worker()
            try:
                os.write(worker.assign_fd, json.dumps(request).encode() + b"\n")
            except (BrokenPipeError, OSError):
                continue  # that worker died while idle: take the next one
            finally:
                os.close(worker.assign_fd)
            self._serving[worker.pid] = request["task_id"]
            return {"pid": worker.pid}

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if not pid:
                return
            for worker in [w for w in self._idle if w.pid == pid]:
                os.close(worker.assign_fd)
                self._idle.remove(worker)
            task_id = self._serving.pop(pid, None)
            if task_id is not None and os.WIFSIGNALED(status):
                # A supervisor killed before it could report (its agent died with it): report for it.
                self._fork_reporter(task_id, pid, -os.WTERMSIG(status))

    def _fork_reporter(self, task_id: str, supervisor_pid: int, exit_code: int) -> None:
        """Report a lost session from a child: the zygote itself never opens a connection."""
        if os.fork() == 0:
            code = 1
            try:
                os.closerange(3, os.sysconf("SC_OPEN_MAX"))
                supervisor.report(task_id, exit_code, self._events, supervisor_pid=supervisor_pid)
                code = 0
            finally:
                os._exit(code)

    def _tend(self) -> None:
        """Refill the idle workers, or let them all go after idle_seconds without a start."""
        if time.monotonic() - self._last_start > self._idle_seconds:
            for worker in self._idle:
                os.close(worker.assign_fd)  # the worker reads the end of its pipe and exits
            self._idle.clear()
            return
        while len(self._idle) < self._size:
            self._idle.append(self._fork_worker())

    def serve(self, requests: int, answers: int) -> None:
        self._tend()
        pending = b""
        while True:
            ready, _, _ = select.select([requests], [], [], _TICK_SECONDS)
            self._reap()
            if ready:
                chunk = os.read(requests, 65536)
                if not chunk:
                    return  # the dispatcher that started us is gone
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    try:
                        answer = self._assign(json.loads(line))
                    except (ValueError, KeyError, TypeError) as exc:
                        answer = {"error": f"bad request: {exc}"}
                    self._last_start = time.monotonic()
                    os.write(answers, json.dumps(answer).encode() + b"\n")
            self._tend()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bgagent-zygote")
    parser.add_argument("--agent-module", default="agent")
    parser.add_argument("--size", type=int, default=2)
    parser.add_argument("--idle-seconds", type=float, default=300.0)
    args = parser.parse_args(argv)
    entry = agent_entry(args.agent_module)
    events = supervisor.events_client()  # built once; no connection is opened until a worker reports
    # Everything loaded so far is shared with every fork: keep the collector from touching (and so
    # copying) those pages in each of them.
    gc.collect()
    gc.freeze()
    answers = os.dup(1)
    os.dup2(2, 1)  # stray prints go to the log, never into the answers
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.write(answers, json.dumps({"ready": os.getpid()}).encode() + b"\n")
    Zygote(entry, events, size=max(0, args.size), idle_seconds=args.idle_seconds).serve(0, answers)
    return 0


if __name__ == "__main__":
    sys.exit(main())

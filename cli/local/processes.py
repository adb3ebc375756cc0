"""Liveness of recorded process ids, robust to pid reuse and zombies where /proc exists."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def start_time(pid: int) -> str | None:
    """The kernel's start time of pid (/proc), to tell a process from a later one with the same id."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


def _state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[0]


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def pid_alive(pid: object, recorded_start: object = None) -> bool:
    """Whether pid runs (not a zombie) and, when its start time was recorded, is the same process."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if _state(pid) == "Z":
        return False
    if recorded_start is not None:
        now = start_time(pid)
        return now is None or now == str(recorded_start)
    return True


def terminate(pids: list[int], grace: float = 15.0) -> None:
    """SIGTERM each live pid, then SIGKILL whatever is still alive after `grace` seconds."""
    live = [p for p in pids if pid_alive(p)]
    for pid in live:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while live and time.monotonic() < deadline:
        time.sleep(0.1)
        live = [p for p in live if pid_alive(p)]
    for pid in live:
        _signal(pid, signal.SIGKILL)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait until pid has exited; whether it did within `timeout`."""
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True

"""Stopping recorded processes: SIGTERM, a grace period, then SIGKILL."""

from __future__ import annotations

import os
import signal
import time

from shared.compute.pids import pid_alive


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

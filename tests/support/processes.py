"""Looking at the agent processes the `process` compute strategy started."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from shared.compute.pids import pid_alive


def pid_of(handle: str | None) -> int | None:
    return int(handle.split(":", 1)[1]) if handle and handle.startswith("process:") else None


def alive(pid: int | None) -> bool:
    return pid_alive(pid)


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def kill_agent(handle: str) -> int:
    """SIGKILL the agent under a supervisor, as an OOM kill would; returns its pid."""
    supervisor = pid_of(handle)
    agents = children(supervisor) if supervisor else []
    if not agents:
        raise RuntimeError(f"no agent process under {handle}")
    os.kill(agents[0], signal.SIGKILL)
    return agents[0]


def wait_for_agent(handle: str, timeout: float = 60) -> int:
    """The agent's pid under its supervisor, once the supervisor has started it (a ceiling, not a window)."""
    supervisor = pid_of(handle)
    deadline = time.monotonic() + timeout
    while not (agents := children(supervisor) if supervisor else []):
        if time.monotonic() > deadline:
            raise RuntimeError(f"no agent process under {handle} after {timeout} s")
        time.sleep(0.05)
    return agents[0]


def wait_for_exit(handles: list[str], timeout: float = 60) -> bool:
    """A barrier: wait until the sessions behind these handles have ended (what they wrote has landed)."""
    deadline = time.monotonic() + timeout
    while any(alive(pid_of(h)) for h in handles) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not any(alive(pid_of(h)) for h in handles)

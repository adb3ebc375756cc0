"""Where the CLI keeps its files, and what a running embedded stack wrote about itself."""

from __future__ import annotations

import json
from pathlib import Path

from shared.compute.pids import pid_alive


def default_home(environ: dict[str, str] | None, user_home: Path) -> Path:
    """$BGAGENT_HOME, else ~/.bgagent."""
    given = (environ or {}).get("BGAGENT_HOME")
    return Path(given).expanduser() if given else user_home / ".bgagent"


def local_dir(home: Path) -> Path:
    """The embedded stack's state directory (logs, issuer key, runtime, stack.json)."""
    return home / "local"


def read_stack_state(state_dir: Path) -> dict | None:
    """stack.json as the embedded stack wrote it, whether or not the stack is still alive."""
    try:
        data = json.loads((state_dir / "stack.json").read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def running_stack(state_dir: Path) -> dict | None:
    """stack.json of an embedded stack whose launcher is alive; None for none or a stale file."""
    state = read_stack_state(state_dir)
    if state and pid_alive(state.get("launcher_pid"), state.get("launcher_start")):
        return state
    return None

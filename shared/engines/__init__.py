"""Which engine drives a task's agent, and whether this deployment has it (the one place engines are named)."""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path
from typing import Literal, get_args

# native: bgagent's own loop; claude-code: the Claude Code CLI (claude-agent-sdk's bundled binary);
# oracle: evaluation only, applies the case's reference patch instead of calling a model.
Engine = Literal["native", "claude-code", "oracle"]
ENGINES: tuple[str, ...] = get_args(Engine)
TASK_ENGINES: tuple[str, ...] = ("native", "claude-code")  # what an ordinary task may name
DEFAULT_ENGINE: Engine = "native"
INSTALL_CLAUDE_CODE = "pip install 'bgagent[claude-code]'"


@functools.cache
def claude_code_cli() -> Path | None:
    """The Claude Code binary bundled in claude-agent-sdk, when the package is installed with it."""
    spec = importlib.util.find_spec("claude_agent_sdk")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        cli = Path(location) / "_bundled" / "claude"
        if cli.is_file() and os.access(cli, os.X_OK):
            return cli
    return None


def unavailable(engine: str) -> str | None:
    """Why `engine` cannot run on this deployment (with the remedy), or None when it can."""
    if engine == "claude-code" and claude_code_cli() is None:
        return f"the claude-code engine is not installed on this deployment: {INSTALL_CLAUDE_CODE}"
    return None

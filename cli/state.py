"""Where the CLI keeps its files, and what a running embedded stack wrote about itself."""

from __future__ import annotations

import json
import os
from pathlib import Path


def home_dir() -> Path:
    return Path(os.environ.get("BGAGENT_HOME", Path.home() / ".bgagent"))


def local_dir() -> Path:
    return home_dir() / "local"


def running_stack() -> dict | None:
    """The state file of the embedded stack, if one is up."""
    path = local_dir() / "stack.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:
        return None

"""Dispatcher settings."""

from pathlib import Path
from typing import Literal

from shared.settings import WorkerSettings


class DispatcherSettings(WorkerSettings):
    compute_type: Literal["process", "ecs"] = "process"
    runtime_dir: Path = Path.home() / ".bgagent" / "runtime"

"""Checking that a directory is a git repository (bare or not) the platform can clone from."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Mapping

from cli.errors import CliError, UsageError

_GIT_LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_INDEX_FILE", "GIT_CEILING_DIRECTORIES")


def _rev_parse(path: Path, env: dict[str, str], *flags: str) -> list[str]:
    try:
        done = subprocess.run(["git", "-C", str(path), "rev-parse", *flags], capture_output=True, text=True,
                              env=env, timeout=15, stdin=subprocess.DEVNULL)
    except FileNotFoundError as exc:
        raise CliError("git is not installed (or not on PATH)") from exc
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["not a git repository"])[-1]
        raise UsageError(f"{path} is not a git repository: {reason.removeprefix('fatal: ')}")
    return done.stdout.split("\n")


def git_repository(directory: str, environ: Mapping[str, str]) -> Path:
    """The absolute path of `directory` if it is the top of a git repository (bare or with a work tree)."""
    path = Path(directory).expanduser().resolve()
    if not path.is_dir():
        raise UsageError(f"{path} is not a directory")
    # Variables that point git elsewhere would make it describe another repository.
    env = {k: v for k, v in environ.items() if k not in _GIT_LOCATION_VARS}
    bare, git_dir = _rev_parse(path, env, "--is-bare-repository", "--absolute-git-dir")[:2]
    if bare == "true":
        if Path(git_dir).resolve() != path:
            raise UsageError(f"{path} is inside the bare repository {git_dir}: give that directory")
        return path
    top = Path(_rev_parse(path, env, "--show-toplevel")[0]).resolve()
    if top != path:
        raise UsageError(f"{path} is inside the repository {top}: give its top directory")
    return path

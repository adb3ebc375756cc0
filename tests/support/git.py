"""Local bare git repositories standing in for GitHub-hosted ones."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(*args: str, cwd: Path | None = None) -> str:
    env = {"GIT_AUTHOR_NAME": "seed", "GIT_AUTHOR_EMAIL": "seed@example.com", "GIT_COMMITTER_NAME": "seed",
           "GIT_COMMITTER_EMAIL": "seed@example.com", "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": "/tmp"}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


def make_bare_repo(root: Path, name: str = "app", files: dict[str, str] | None = None) -> Path:
    """A bare repository with one commit on `main`; returns its path (usable as a clone URL)."""
    bare = root / f"{name}.git"
    work = root / f"{name}-seed"
    git("init", "--bare", "-b", "main", str(bare))
    git("init", "-b", "main", str(work))
    for path, text in (files or {"README.md": "# App\n\nHello\n"}).items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    git("add", "-A", cwd=work)
    git("commit", "-m", "initial commit", cwd=work)
    git("push", str(bare), "main", cwd=work)
    return bare


def branch_log(bare: Path, branch: str) -> str:
    """Full commit messages on `branch` that `main` does not have."""
    return git("--git-dir", str(bare), "log", "--format=%B%x00", f"main..{branch}")


def file_at(bare: Path, branch: str, path: str) -> str:
    return git("--git-dir", str(bare), "show", f"{branch}:{path}")

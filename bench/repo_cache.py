"""What the repository cache saves: a task's clone of a repository with ~50 MB of history, cold and warm.

    .venv/bin/python -m bench.repo_cache [--samples 30] [--history-mb 50]

Cold is today's path without a cache (a full `git clone`); warm borrows from the cache's mirror, with one
new commit pushed before each sample so the mirror's refresh has work. Both go through `Workspace.clone`
over `file://` (git's pack protocol, as for a remote; a plain path would hard-link instead).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import tempfile
import time
from pathlib import Path

from agent.repo_cache import RepoCache
from agent.workspace import Workspace
from bench.common import machine, summary

_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com", "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com", "PATH": os.environ["PATH"], "HOME": "/tmp"}
_FILES = 16  # the tree holds this many binary files; each commit replaces one


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=_ENV)


def _commit(work: Path, name: str, size: int, message: str) -> None:
    (work / name).write_bytes(os.urandom(size))  # incompressible: the history really weighs what it says
    _git("add", name, cwd=work)
    _git("commit", "-q", "-m", message, cwd=work)


def build_repository(root: Path, history_mb: int, commits: int = 80) -> tuple[Path, Path]:
    """A bare repository with `history_mb` of history, and a working clone that pushes to it."""
    bare, work = root / "big.git", root / "big-work"
    _git("init", "-q", "--bare", "-b", "main", str(bare), cwd=root)
    _git("init", "-q", "-b", "main", str(work), cwd=root)
    size = (history_mb << 20) // commits
    for n in range(commits):
        _commit(work, f"blob{n % _FILES}.bin", size, f"commit {n}")
    _git("push", "-q", str(bare), "main", cwd=work)
    _git("remote", "add", "origin", str(bare), cwd=work)
    return bare, work


def _bytes(path: Path) -> int:
    return sum(p.lstat().st_blocks * 512 for p in path.rglob("*"))


async def _clone(base: Path, url: str, cache: RepoCache | None, n: int) -> tuple[float, int]:
    """Seconds to make one task's workspace, and what its .git takes on disk."""
    ws = Workspace(f"01BENCH{n:019d}", base_dir=base, tool_path=os.environ["PATH"], git_timeout=300, cache=cache)
    started = time.perf_counter()
    await ws.clone(url, None, branch=f"bgagent/bench/{n}", default_branch="main")
    elapsed = time.perf_counter() - started
    size = _bytes(ws.git_dir) + _bytes(ws.repo / ".git")  # the runtime's repository and the sandbox's clone
    ws.remove()
    return elapsed, size


async def run(samples: int, history_mb: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-repo-cache-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        bare, work = build_repository(root, history_mb)
        url = f"file://{bare}"
        print(f"# repository cache, {machine()}")
        print(f"repository: {_bytes(bare) / 2**20:.0f} MiB of history, 80 commits, built in "
              f"{time.perf_counter() - started:.1f} s")
        cold = [await _clone(root / "ws", url, None, n) for n in range(samples)]
        cache = RepoCache(root / "cache", max_bytes=10 << 30, max_age_seconds=86_400)
        first = await _clone(root / "ws", url, cache, 0)
        warm = []
        for n in range(samples):
            _commit(work, "change.txt", 4096, f"change {n}")
            _git("push", "-q", "origin", "main", cwd=work)
            warm.append(await _clone(root / "ws", url, cache, n + 1))
        print(f"cold (plain clone)         ms: {summary([t * 1000 for t, _ in cold])}")
        print(f"first use (mirror made)    ms: {first[0] * 1000:.1f}")
        print(f"warm (cache, +1 commit)    ms: {summary([t * 1000 for t, _ in warm])}")
        print(f"workspace .git on disk   MiB: cold {cold[-1][1] / 2**20:.1f}, warm {warm[-1][1] / 2**20:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--history-mb", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(run(args.samples, args.history_mb))


if __name__ == "__main__":
    main()

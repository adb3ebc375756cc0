"""What committing through the boundary costs: the work staged in the sandbox and imported as a pack.

    .venv/bin/python -m bench.commit [--samples 20] [--files 3000] [--file-kb 8]

Each sample changes one file in the sandbox and commits it with `Workspace.commit_all` (a sandboxed command
stages the tree in a throwaway repository and writes a pack; the runtime indexes, weighs and commits it).
For comparison, the same change committed by a plain `git add -A && git commit` in a clone whose index is
warm (what the runtime did before, on the model's own repository). Both on the same tree, in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import tempfile
import time
from pathlib import Path

from agent.sandbox.factory import SandboxConfig, SandboxFactory, TaskSandboxRequest
from agent.sandbox.protocol import SandboxPaths
from agent.workspace import Workspace
from bench.common import machine, summary

_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com", "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com", "PATH": os.environ["PATH"], "HOME": "/tmp"}


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=_ENV, text=True).stdout


def build_repository(root: Path, files: int, file_kb: int) -> Path:
    bare, work = root / "app.git", root / "app-work"
    _git("init", "-q", "--bare", "-b", "main", str(bare), cwd=root)
    _git("init", "-q", "-b", "main", str(work), cwd=root)
    for n in range(files):
        path = work / f"src/m{n % 50}/f{n}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text((f"line {n}\n" * (file_kb * 128))[: file_kb << 10])
    _git("add", "-A", cwd=work)
    _git("commit", "-q", "-m", "initial", cwd=work)
    _git("push", "-q", str(bare), "main", cwd=work)
    return bare


async def _ignore(*_: object) -> None:
    return None


async def run(samples: int, files: int, file_kb: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-commit-") as tmp:
        root = Path(tmp)
        bare = build_repository(root, files, file_kb)
        print(f"# commit through the boundary, {machine()}")
        print(f"repository: {files} files of {file_kb} KiB")
        ws = Workspace("01BENCHCOMMIT", base_dir=root / "ws", tool_path=os.environ["PATH"], git_timeout=300)
        await ws.clone(f"file://{bare}", None, branch="bgagent/bench/commit", default_branch="main")
        ws.sandbox = await SandboxFactory(SandboxConfig()).open(TaskSandboxRequest(
            "01BENCHCOMMIT", SandboxPaths(ws.repo, ws.home, ws.tmp), ws.tool_env(),
            readonly_paths=ws.sandbox_readonly), _ignore)  # type: ignore[arg-type]
        boundary = []
        for n in range(samples):
            (await ws.sandbox.run(f"echo {n} >> src/m0/f0.txt", timeout=60, output_limit=1000))
            started = time.perf_counter()
            assert await ws.commit_all(f"change {n}", branch="bgagent/bench/commit")
            boundary.append((time.perf_counter() - started) * 1000)
        plain_clone = root / "plain"
        _git("clone", "-q", f"file://{bare}", str(plain_clone), cwd=root)
        _git("status", "--porcelain", cwd=plain_clone)  # a warm index, as a clone the model worked in
        plain = []
        for n in range(samples):
            with (plain_clone / "src/m0/f0.txt").open("a") as out:
                out.write(f"{n}\n")
            started = time.perf_counter()
            _git("add", "-A", cwd=plain_clone)
            _git("commit", "-q", "-m", f"change {n}", cwd=plain_clone)
            plain.append((time.perf_counter() - started) * 1000)
        await ws.sandbox.close()
        ws.remove()
        print(f"through the boundary (sandbox stage + pack + import)  ms: {summary(boundary)}")
        print(f"plain add + commit on a warm index (before)            ms: {summary(plain)}")
        print(f"ratio of medians: {sorted(boundary)[len(boundary) // 2] / sorted(plain)[len(plain) // 2]:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--file-kb", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(run(args.samples, args.files, args.file_kb))


if __name__ == "__main__":
    main()

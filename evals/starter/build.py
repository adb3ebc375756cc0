"""Builds the starter suite: its repositories (git, on this machine) and the dataset (JSONL) over them."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from evals.starter.cases import CASES, StarterCase
from evals.starter.repos import REPOS, TEST_COMMAND
from shared.evals.cases import EvalCase

# A fixed author and date: the same suite gets the same base commits on every machine.
_GIT_ENV = {"GIT_AUTHOR_NAME": "bgagent starter", "GIT_AUTHOR_EMAIL": "starter@bgagent.invalid",
            "GIT_COMMITTER_NAME": "bgagent starter", "GIT_COMMITTER_EMAIL": "starter@bgagent.invalid",
            "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "PATH": "/usr/bin:/bin:/usr/local/bin",
            "HOME": "/nonexistent", "LANG": "C.UTF-8"}


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=_GIT_ENV, check=True, capture_output=True, text=True)
    return done.stdout


def _write(root: Path, files: Mapping[str, str]) -> None:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)


def build_repo(path: Path, files: Mapping[str, str]) -> str:
    """A git repository at `path` whose `main` is one commit holding `files`; that commit's id."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    _git(path, "init", "-q", "-b", "main")
    _write(path, files)
    _git(path, "add", "-A")
    _git(path, "commit", "-q", "-m", "Initial version")
    return _git(path, "rev-parse", "HEAD").strip()


def case_patches(repo: Path, case: StarterCase) -> tuple[str, str]:
    """(gold_patch, test_patch) of a case, as unified diffs against the repository's main."""
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch) / "work"
        _git(Path(scratch), "clone", "-q", str(repo), str(work))
        _write(work, {case.path: case.fixed, case.test_path: case.tests})
        _git(work, "add", "-A")
        gold = _git(work, "diff", "--cached", "--", case.path)
        tests = _git(work, "diff", "--cached", "--", case.test_path)
    return gold, tests


def build_suite(root: Path, owner: str = "starter") -> list[EvalCase]:
    """The suite's repositories under `root` (rebuilt: same commits each time) and its cases over them."""
    cases: list[EvalCase] = []
    for name, files in REPOS.items():
        repo = root / name
        base = build_repo(repo, files)
        for case in (c for c in CASES if c.repo == name):
            gold, tests = case_patches(repo, case)
            cases.append(EvalCase(id=case.id, repo=f"{owner}/{name}", base=base, task=case.task, test_patch=tests,
                                  test_command=TEST_COMMAND, gold_patch=gold, timeout_s=120,
                                  tags=["starter", *case.tags]))
    return cases

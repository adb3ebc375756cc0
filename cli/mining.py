"""Turning a repository's history into evaluation cases: commits that change both tests and code."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from pydantic import ValidationError

from cli.errors import CliError
from shared.evals.cases import EvalCase

DEFAULT_TEST_PATTERNS = ("test_*.py", "*_test.py", "tests/**")
# Variables that point git elsewhere, or would run the user's programs on our diffs.
_DROPPED_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_INDEX_FILE", "GIT_EXTERNAL_DIFF", "GIT_PAGER")
_FIELD = "\x1f"


@dataclass(frozen=True)
class Rejected:
    """A commit that did not become a case, and why."""

    commit: str
    subject: str
    reason: str


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A path glob: `**` spans directories, `*` and `?` stay within one; no slash = the file's name."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        else:
            out.append({"*": "[^/]*", "?": "[^/]"}.get(pattern[i], re.escape(pattern[i])))
            i += 1
    return re.compile("".join(out) + r"\Z")


def is_test_path(path: str, patterns: tuple[str, ...]) -> bool:
    """Whether a changed file is a test: patterns without a slash match its name, others its whole path."""
    name = path.rsplit("/", 1)[-1]
    return any(_glob_regex(p).match(path if "/" in p else name) for p in patterns)


class History:
    """Read-only git on a local clone of the repository (the user's own machine, not a sandbox)."""

    def __init__(self, repo_dir: Path, environ: Mapping[str, str]):
        self.repo_dir = repo_dir
        self._env = {k: v for k, v in environ.items() if k not in _DROPPED_VARS}

    def git(self, *args: str) -> str:
        try:
            done = subprocess.run(["git", "-C", str(self.repo_dir), "-c", "core.quotePath=false", *args],
                                  capture_output=True, text=True, env=self._env, timeout=120, stdin=subprocess.DEVNULL)
        except FileNotFoundError as exc:
            raise CliError("git is not installed (or not on PATH)") from exc
        if done.returncode != 0:
            raise CliError(f"git {args[0]} failed in {self.repo_dir}: {done.stderr.strip()[-300:]}")
        return done.stdout

    def first_parent_commits(self, ref: str) -> list[tuple[str, list[str], str]]:
        """(commit, parents, full message) along the branch's first-parent line, newest first."""
        out = self.git("log", "--first-parent", f"--format=%H{_FIELD}%P{_FIELD}%B%x00", ref, "--")
        commits = []
        for record in out.split("\x00"):
            record = record.lstrip("\n")
            if record:
                sha, parents, message = record.split(_FIELD, 2)
                commits.append((sha, parents.split(), message.strip()))
        return commits

    def changed_paths(self, parent: str, commit: str) -> list[str]:
        out = self.git("diff", "--no-renames", "--name-only", "-z", parent, commit, "--")
        return [p for p in out.split("\x00") if p]

    def diff(self, parent: str, commit: str, paths: list[str]) -> str:
        return self.git("diff", "--no-renames", "--no-ext-diff", "--no-textconv", "--no-color", "--binary",
                        "--full-index", parent, commit, "--", *[f":(literal){p}" for p in paths])


_MERGE_SUBJECT = re.compile(r"\AMerge (?:pull request|branch) [^\n]*\n+")


def task_text(message: str, test_paths: list[str]) -> str:
    """The commit message as the agent's task (a merge's: its pull request's text), test file mentions taken out."""
    text = _MERGE_SUBJECT.sub("", message)  # a merge with only git's subject keeps it: no newline follows
    for path in sorted(test_paths, key=len, reverse=True):
        text = text.replace(path, "")
    for name in sorted({p.rsplit("/", 1)[-1] for p in test_paths}, key=len, reverse=True):
        text = text.replace(name, "")
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def mine_history(history: History, *, repo: str, ref: str, test_command: str, patterns: tuple[str, ...],
                 limit: int, setup_command: str | None = None) -> tuple[list[EvalCase], list[Rejected]]:
    """Up to `limit` candidate cases from the branch's history, newest first, and the commits left out."""
    cases: list[EvalCase] = []
    rejected: list[Rejected] = []
    for sha, parents, message in history.first_parent_commits(ref):
        if len(cases) >= limit:
            break
        subject = message.splitlines()[0] if message else ""
        if not parents:
            rejected.append(Rejected(sha, subject, "first commit: no parent to start from"))
            continue
        paths = history.changed_paths(parents[0], sha)
        tests = [p for p in paths if is_test_path(p, patterns)]
        code = [p for p in paths if p not in tests]
        if not tests or not code:
            rejected.append(Rejected(sha, subject, "no test change" if not tests else "no code change"))
            continue
        try:
            cases.append(EvalCase(id=sha[:12], repo=repo, base=parents[0], task=task_text(message, tests) or subject,
                                  test_patch=history.diff(parents[0], sha, tests),
                                  gold_patch=history.diff(parents[0], sha, code), test_command=test_command,
                                  setup_command=setup_command, tags=["mined"]))
        except ValidationError as exc:
            err = exc.errors()[0]
            rejected.append(Rejected(sha, subject, f"not a valid case: {'.'.join(map(str, err['loc']))}: {err['msg']}"))
    return cases, rejected

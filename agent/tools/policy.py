"""Which bash commands the agent refuses to run: escaping the workspace, destroying history, reading credentials.

This is a guardrail against a model's mistakes, not a boundary: every command runs inside the
task's sandbox (agent/sandbox/), which is what keeps the host, the secrets and the network out of
reach; a deny-list of strings is bypassed by any command that builds a path at run time.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from agent.tools.shell_syntax import ShellSyntaxError, SimpleCommand, split_commands, strip_heredocs

_CREDENTIAL_READS = (
    (re.compile(r"/proc/[^\s/]+/environ"), "reading a process environment exposes the agent's credentials"),
    (re.compile(r"169\.254\.169\.254|169\.254\.170\.2|fd00:ec2::254"),
     "the instance and task metadata endpoints hand out cloud credentials"),
    (re.compile(r"\.git-credentials|\.aws/credentials|\.docker/config\.json"), "that file holds credentials"),
)
# Used only when a command cannot be tokenized: coarse, but never silent.
_FALLBACK = (
    (re.compile(r"\brm\s+-[a-zA-Z]*[rR][a-zA-Z]*\s+(/|~|\.\.)(\s|/|$)"), "recursive delete outside the workspace"),
    (re.compile(r"\brm\b[^\n;&|]*(^|[\s/])\.git(/|\s|$)"), "deleting .git destroys the repository's history"),
    (re.compile(r"\bgit\b[^\n;&|]*\bpush\b[^\n;&|]*(\s-f\b|--force|\s\+)"), "force-pushing can destroy history"),
)
_ENV_DUMPS = {"printenv", "env"}
_SAFE_SINKS = {"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"}


@dataclass(frozen=True)
class Refusal:
    """Why a command was refused, phrased for the model."""

    reason: str


class CommandPolicy:
    """Checks a bash command against the rules before it runs."""

    def __init__(self, workspace: Path, default_branch: str, *, home: Path | None = None,
                 extra_roots: Sequence[Path] = (), read_only: bool = False):
        self._workspace = workspace.resolve()
        self._home = home.resolve() if home else None
        self._roots = [self._workspace, *(p.resolve() for p in extra_roots)]
        self._default_branch = default_branch
        self._read_only = read_only  # a review: the run ends without any push

    def check(self, command: str) -> Refusal | None:
        """None if the command may run, else the reason it may not."""
        text = strip_heredocs(command)
        for pattern, reason in _CREDENTIAL_READS:
            if pattern.search(text):
                return Refusal(reason)
        try:
            commands = split_commands(command)
        except ShellSyntaxError:
            return next((Refusal(reason) for pattern, reason in _FALLBACK if pattern.search(text)), None)
        cwd = self._workspace
        for cmd in commands:
            refusal = self._check_writes(cmd, cwd) or self._check_command(cmd.argv, cwd)
            if refusal:
                return refusal
            if cmd.argv[:1] in (["cd"], ["pushd"]) and len(cmd.argv) > 1:
                cwd = self._resolve(cmd.argv[1], cwd)
        return None

    def _inside(self, path: Path) -> bool:
        return any(path == root or path.is_relative_to(root) for root in self._roots)

    def _resolve(self, target: str, cwd: Path) -> Path:
        # Only the literal part before any glob or expansion can be judged.
        literal = re.split(r"[*?\[${`]", target, maxsplit=1)[0]
        if literal.startswith("~"):
            literal = str(self._home or Path("/root")) + literal[1:]
        return Path(os.path.normpath(cwd / literal)).resolve() if literal else cwd

    def _check_writes(self, cmd: SimpleCommand, cwd: Path) -> Refusal | None:
        for target in cmd.writes_to:
            if target in _SAFE_SINKS or target.startswith("/dev/fd/") or target.isdigit():
                continue
            if not self._inside(self._resolve(target, cwd)):
                return Refusal(f"writing to {target} is outside the workspace")
        return None

    def _check_command(self, argv: list[str], cwd: Path) -> Refusal | None:
        if not argv:
            return None
        name, args = argv[0].rsplit("/", 1)[-1], argv[1:]
        if name in _ENV_DUMPS and not args or name == "printenv":
            return Refusal("dumping the environment is not allowed")
        if name in ("export", "declare", "typeset") and (not args or args[0] in ("-p", "-x", "-px")):
            return Refusal("dumping the environment is not allowed")
        if name == "set" and not args:
            return Refusal("dumping the environment is not allowed")
        if name == "rm":
            return self._check_rm(args, cwd)
        if name in ("cd", "pushd") and args and args[0] != "-":
            if not self._inside(self._resolve(args[0], cwd)):
                return Refusal(f"cd {args[0]} leaves the workspace; stay inside {self._workspace}")
        if name == "git":
            return self._check_git(args)
        return None

    def _check_rm(self, args: list[str], cwd: Path) -> Refusal | None:
        targets, options_done = [], False
        for arg in args:
            if arg == "--" and not options_done:
                options_done = True
            elif arg.startswith("-") and not options_done:
                continue
            else:
                targets.append(arg)
        for target in targets:
            if target.startswith("~") or "$HOME" in target or "${HOME}" in target:
                return Refusal("deleting the home directory is not allowed")
            path = self._resolve(target, cwd)
            if ".git" in Path(target).parts or path.name == ".git":
                return Refusal("deleting .git destroys the repository's history")
            if path == self._workspace and re.search(r"[*?]", target) is None:
                return Refusal("deleting the workspace itself is not allowed")
            if not self._inside(path):
                return Refusal(f"deleting {target} reaches outside the workspace")
        return None

    def _check_git(self, args: list[str]) -> Refusal | None:
        i = 0
        while i < len(args) and args[i].startswith("-"):
            i += 2 if args[i] in ("-C", "-c") else 1  # global options, some with a value
        sub, rest = (args[i], args[i + 1:]) if i < len(args) else ("", [])
        if sub == "push":
            return self._check_push(rest)
        if sub == "filter-branch" or (sub == "reflog" and rest[:1] in (["expire"], ["delete"])):
            return Refusal(f"git {sub} rewrites or discards history")
        return None

    def _check_push(self, args: list[str]) -> Refusal | None:
        if self._read_only:
            return Refusal("this task is a read-only review: pushing is not allowed")
        flags = [a for a in args if a.startswith("-")]
        positional = [a for a in args if not a.startswith("-")]
        force = any(f in ("--force", "--mirror", "--prune", "--delete") or f.startswith("--force-with-lease")
                    or (not f.startswith("--") and ("f" in f or "d" in f)) for f in flags)
        refspecs = positional[1:]
        force = force or any(r.startswith(("+", ":")) for r in refspecs)
        targets = {r.lstrip("+").split(":")[-1].removeprefix("refs/heads/") for r in refspecs}
        if self._default_branch in targets:
            return Refusal(f"pushing to the default branch {self._default_branch} is not allowed; "
                           "the agent delivers through its own branch and a pull request")
        if force and (not refspecs or "--all" in flags or "--mirror" in flags):
            return Refusal("a force push without an explicit branch could overwrite the default branch")
        return None

"""Just enough shell parsing for the command policy: simple commands and their redirections."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

_PUNCTUATION = "();<>|&\n`"
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")
# Words that run the rest of the line as a command.
_WRAPPERS = {"sudo", "command", "builtin", "exec", "nohup", "time", "nice", "stdbuf", "doas"}
_SHELLS = {"bash", "sh", "zsh", "dash", "ksh"}


@dataclass
class SimpleCommand:
    """One command of a pipeline or list: its words and where it sends output."""

    argv: list[str] = field(default_factory=list)
    writes_to: list[str] = field(default_factory=list)


class ShellSyntaxError(ValueError):
    """The command could not be tokenized (e.g. an unclosed quote)."""


def strip_heredocs(command: str) -> str:
    """The command without here-document bodies: their text is data, not commands."""
    lines = command.split("\n")
    out: list[str] = []
    pending: list[str] = []
    for line in lines:
        if pending:
            if line.strip() == pending[0]:
                pending.pop(0)
            continue
        out.append(line)
        pending.extend(m.group(2) for m in _HEREDOC.finditer(line))
    return "\n".join(out)


def _tokens(command: str) -> list[str]:
    lexer = shlex.shlex(command, posix=True, punctuation_chars=_PUNCTUATION)
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError as exc:
        raise ShellSyntaxError(str(exc)) from exc


def _is_operator(token: str) -> bool:
    return bool(token) and all(c in _PUNCTUATION for c in token)


def split_commands(command: str) -> list[SimpleCommand]:
    """Every simple command in `command`, including those inside $(...), `...` and sh -c strings."""
    commands: list[SimpleCommand] = []
    current = SimpleCommand()
    tokens = _tokens(strip_heredocs(command))
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if _is_operator(token) and ("<" in token or ">" in token):
            target = tokens[i + 1] if i + 1 < len(tokens) else ""
            # `>&1`, `2>&1`, here-docs and input redirections name no file we write.
            if ">" in token and not token.endswith("&") and "<" not in token and not _is_operator(target):
                current.writes_to.append(target)
            i += 2 if target and not _is_operator(target) else 1
            continue
        if _is_operator(token) or token == "$":
            if current.argv or current.writes_to:
                commands.append(current)
            current = SimpleCommand()
        else:
            current.argv.append(token)
        i += 1
    if current.argv or current.writes_to:
        commands.append(current)
    return _expand_nested(commands)


def _expand_nested(commands: list[SimpleCommand]) -> list[SimpleCommand]:
    out: list[SimpleCommand] = []
    for cmd in commands:
        cmd.argv = unwrap(cmd.argv)
        out.append(cmd)
        script = nested_script(cmd.argv)
        if script is not None:
            out.extend(split_commands(script))
    return out


def unwrap(argv: list[str]) -> list[str]:
    """argv without leading assignments and wrappers (sudo, env VAR=x, nohup, timeout 5 …)."""
    i = 0
    while i < len(argv):
        word = argv[i].rsplit("/", 1)[-1]
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", word):
            i += 1
        elif word in _WRAPPERS:
            i += 1
            while i < len(argv) and argv[i].startswith("-"):
                i += 1
        elif word == "timeout":
            i += 1
            while i < len(argv) and argv[i].startswith("-"):
                i += 1
            i += 1  # the duration
        elif word == "env":
            # `env` wraps the command after its options and assignments; alone, it dumps.
            i += 1
            while i < len(argv) and (argv[i].startswith("-") or "=" in argv[i]):
                i += 1
            if i == len(argv):
                return ["env"]
        else:
            break
    return argv[i:]


def nested_script(argv: list[str]) -> str | None:
    """The script string of `bash -c '…'` or `eval …`, if argv is one."""
    if not argv:
        return None
    name = argv[0].rsplit("/", 1)[-1]
    if name == "eval":
        return " ".join(argv[1:])
    if name in _SHELLS:
        for k, word in enumerate(argv[1:-1], start=1):
            if word.startswith("-") and not word.startswith("--") and "c" in word:
                return argv[k + 1]
    return None

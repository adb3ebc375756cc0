"""The embedded stack's log files: which file a name means, tailing and following them, readable lines."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Callable, Iterator

from rich.markup import escape

from cli.errors import UsageError

LEVEL_STYLE = {"DEBUG": "dim", "INFO": "", "WARNING": "yellow", "ERROR": "red", "CRITICAL": "bold red"}
_BLOCK = 65536
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


def log_files(state_dir: Path, service: str | None) -> list[Path]:
    """The log of one service (`agent-TASK_ID` for an agent), or of every service when none is named."""
    logs, agents = state_dir / "logs", state_dir / "runtime" / "logs"
    if service is None:
        files = sorted(logs.glob("*.log"))
        if not files:
            raise UsageError(f"no logs in {logs}", hint="start the stack: bgagent local up")
        return files
    path = (agents if service.startswith("agent-") else logs) / f"{service}.log"
    if not _NAME.match(service) or not path.exists():
        known = ", ".join(sorted(_names(logs))) or "none yet"
        raise UsageError(f"no log for {service!r}", hint=f"services: {known}; an agent: agent-TASK_ID")
    return [path]


def _names(logs: Path) -> set[str]:
    return {p.stem for p in logs.glob("*.log")}


def tail(path: Path, lines: int) -> list[str]:
    """The last `lines` complete lines of a file, read from its end."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        end = pos = f.tell()
        data = b""
        while pos > 0 and data.count(b"\n") <= lines:
            pos = max(0, pos - _BLOCK)
            f.seek(pos)
            data = f.read(end - pos)
    return data.decode(errors="replace").splitlines()[-lines:] if lines else []


def _ts(line: str) -> str:
    try:
        return str(json.loads(line).get("ts", ""))
    except (ValueError, AttributeError):
        return ""


def tail_many(paths: list[Path], lines: int) -> list[tuple[str, str]]:
    """The newest `lines` lines over several files as (file stem, line), in time order where lines tell it."""
    merged: list[tuple[str, int, str, str]] = []
    for path in paths:
        last = ""
        for i, line in enumerate(tail(path, lines)):
            last = _ts(line) or last  # a plain line (a traceback) sorts with the JSON line before it
            merged.append((last, i, path.stem, line))
    if len(paths) > 1:
        merged.sort(key=lambda m: m[0])
    return [(stem, line) for _ts_, _i, stem, line in merged][-lines:]


def follow(paths: list[Path], *, interval: float = 0.3, stop: Callable[[], bool] = lambda: False,
           sleep: Callable[[float], None] = time.sleep) -> Iterator[tuple[str, str]]:
    """Lines appended to the files from now on, until `stop()` says so."""
    offsets = {p: p.stat().st_size if p.exists() else 0 for p in paths}
    while not stop():
        for path in paths:
            try:
                size = path.stat().st_size
            except OSError:
                continue
            if size < offsets[path]:
                offsets[path] = 0  # truncated or replaced
            if size == offsets[path]:
                continue
            with open(path, "rb") as f:
                f.seek(offsets[path])
                chunk = f.read(size - offsets[path])
            complete = chunk[: chunk.rfind(b"\n") + 1]
            offsets[path] += len(complete)
            for line in complete.decode(errors="replace").splitlines():
                yield path.stem, line
        sleep(interval)


def pretty(line: str, source: str) -> str:
    """A JSON log line as 'time level service [task] message' (rich markup); other lines as they are."""
    try:
        rec = json.loads(line)
    except ValueError:
        rec = None
    if not isinstance(rec, dict) or "message" not in rec:
        return f"[dim]{escape(source)}[/] {escape(line)}"
    level = str(rec.get("level", ""))
    style = LEVEL_STYLE.get(level, "")
    ts = str(rec.get("ts", ""))[11:23]
    task = f" [cyan]{escape(str(rec['task_id']))}[/]" if rec.get("task_id") else ""
    text = escape(str(rec["message"]))
    if rec.get("method") and rec.get("path"):  # an access log line says nothing without these
        took = f" {rec['duration_ms']:g} ms" if isinstance(rec.get("duration_ms"), (int, float)) else ""
        text += escape(f" {rec['method']} {rec['path']} → {rec.get('status')}{took}")
    head = f"[dim]{ts}[/] " + (f"[{style}]{level:<7}[/]" if style else f"{level:<7}")
    out = f"{head} {escape(str(rec.get('service', source)))}{task} {text}"
    if rec.get("exception"):
        out += "\n" + escape(str(rec["exception"]))
    return out

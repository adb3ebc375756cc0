"""The text editor client tool (`text_editor_20250728`, named `str_replace_based_edit_tool`).

It runs in the runtime, outside every sandbox limit, on files the model made: it opens only regular
files and never in a way that blocks (a FIFO, socket or device is refused), reads at most a bounded
window of a file, edits only files up to a size limit, and does its file work off the event loop.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import os
import stat
from pathlib import Path
from typing import Any, Callable

from agent.tools.file_window import read_all, read_window
from agent.tools.protocol import ToolResult

_SNIPPET_CONTEXT = 4
_SKIPPED_DIRS = {"node_modules"}
_BINARY_PROBE = 8192
_MAX_LISTED = 2_000  # entries read per directory: a listing is capped far below this anyway


class EditError(Exception):
    """A call the editor cannot carry out; its message goes back to the model."""


def _numbered(lines: list[str], first: int) -> str:
    return "\n".join(f"{n:6}\t{line}" for n, line in enumerate(lines, start=first))


class EditorTool:
    """view / create / str_replace / insert on files inside the workspace, and nowhere else."""

    def __init__(self, root: Path, *, max_characters: int, max_file_bytes: int = 10 << 20):
        self._root = root.resolve()
        self._max_characters = max_characters
        self._max_file_bytes = max_file_bytes  # str_replace and insert hold the whole file in memory
        owner = self._root.stat()
        self._owner = (owner.st_uid, owner.st_gid)

    @property
    def definition(self) -> dict[str, Any]:
        return {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool",
                "max_characters": self._max_characters}

    async def run(self, tool_input: dict[str, Any]) -> ToolResult:
        """Run one call of the tool."""
        command = tool_input.get("command")
        handler = {"view": self._view, "create": self._create, "str_replace": self._str_replace,
                   "insert": self._insert}.get(command or "")
        if handler is None:
            return ToolResult(f"Error: unknown command {command!r}; use view, create, str_replace or insert.",
                              is_error=True)
        return await asyncio.to_thread(self._call, handler, tool_input)

    def _call(self, handler: Callable[[Path, dict[str, Any]], str], tool_input: dict[str, Any]) -> ToolResult:
        try:
            return ToolResult(handler(self.resolve(tool_input.get("path")), tool_input))
        except EditError as exc:
            return ToolResult(f"Error: {exc}", is_error=True)
        except (OSError, UnicodeError) as exc:
            return ToolResult(f"Error: {type(exc).__name__}: {exc}", is_error=True)

    def resolve(self, raw: Any) -> Path:
        """The absolute path of `raw` (relative to the workspace, or absolute inside it), no link leading out."""
        if not isinstance(raw, str) or not raw.strip():
            raise EditError("a `path` is required")
        candidate = Path(raw) if Path(raw).is_absolute() else self._root / raw
        path = candidate.resolve()  # follows every link, so the check below sees where it really leads
        if path != self._root and not path.is_relative_to(self._root):
            raise EditError(f"{raw} is outside the workspace {self._root}")
        if ".git" in path.relative_to(self._root).parts:
            raise EditError("the .git directory is not editable")
        return path

    def _open(self, path: Path, flags: int) -> tuple[int, os.stat_result]:
        """A descriptor on `path` if it is a regular file: not a link (O_NOFOLLOW), not a second name of an
        outside file, and opened without blocking (O_NONBLOCK: a FIFO would wait for its other end)."""
        try:
            fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # a FIFO nobody reads, or a socket
                raise EditError(f"{self._shown(path)} is not a regular file") from exc
            raise
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise EditError(f"{self._shown(path)} is not a regular file")
        if info.st_nlink > 1:
            os.close(fd)  # a hard link may name a file outside the workspace
            raise EditError(f"{self._shown(path)} has several hard links; the editor does not open it")
        return fd, info

    def _write(self, path: Path, text: str) -> None:
        fd, _ = self._open(path, os.O_WRONLY | os.O_CREAT)  # truncated once known to be a regular file
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.ftruncate(fd, 0)
            if os.geteuid() == 0 and self._owner != (0, 0):
                os.fchown(fd, *self._owner)  # the sandbox's command user must still be able to edit it
            handle.write(text)

    def _shown(self, path: Path) -> str:
        return str(path.relative_to(self._root)) if path != self._root else "."

    def _open_text(self, path: Path) -> tuple[int, os.stat_result]:
        """A descriptor to read `path`, a regular text file (no NUL byte in its head)."""
        if not path.exists():
            raise EditError(f"{self._shown(path)} does not exist")
        fd, info = self._open(path, os.O_RDONLY)
        if b"\0" in os.pread(fd, _BINARY_PROBE, 0):
            os.close(fd)
            raise EditError(f"{self._shown(path)} is a binary file")
        return fd, info

    def _read(self, path: Path) -> str:
        """The whole text of a file to edit, refused past the edit limit."""
        fd, info = self._open_text(path)
        try:
            data = read_all(fd, self._max_file_bytes) if info.st_size <= self._max_file_bytes else None
        finally:
            os.close(fd)
        if data is None:
            raise EditError(f"{self._shown(path)} is {info.st_size:,} bytes, over the editor's limit of "
                            f"{self._max_file_bytes:,} bytes for edits (BGAGENT_EDITOR_MAX_FILE_MB); view it "
                            "with view_range and change it with a bash command (sed, a script)")
        return data.decode("utf-8", errors="replace")

    def _cap(self, text: str) -> str:
        if len(text) <= self._max_characters:
            return text
        return text[: self._max_characters] + "\n[... truncated: use view_range to see the rest ...]"

    def _view(self, path: Path, tool_input: dict[str, Any]) -> str:
        if path.is_dir():
            return self._cap(self._listing(path))
        view_range = tool_input.get("view_range")
        first, last = 1, None
        if view_range is not None:
            if (not isinstance(view_range, list) or len(view_range) != 2
                    or not all(isinstance(n, int) for n in view_range)):
                raise EditError("view_range must be two integers [start, end]")
            first, last = view_range[0], (None if view_range[1] == -1 else view_range[1])
            if first < 1 or (last is not None and last < first):
                raise EditError(f"view_range {view_range} is not a range of lines")
        fd, info = self._open_text(path)
        try:
            window = read_window(fd, first, last, max_chars=self._max_characters)
        finally:
            os.close(fd)
        total = window.total
        if total is not None and (first > total or (last is not None and last > total)):
            raise EditError(f"view_range {view_range} is outside the file's {total} lines")
        shown = _numbered(window.lines, first)
        if window.cut:
            end = first + len(window.lines) - 1
            shown += (f"\n[... truncated: the file is {info.st_size:,} bytes; showing lines {first}-{end}; "
                      "use view_range to see the rest ...]")
        return shown

    def _listing(self, path: Path) -> str:
        entries: list[str] = []
        for child in _entries(path):
            if child.name.startswith(".") or child.name in _SKIPPED_DIRS:
                continue
            entries.append(self._shown(child) + ("/" if child.is_dir() else ""))
            if child.is_dir():
                entries += [self._shown(g) + ("/" if g.is_dir() else "") for g in _entries(child)
                            if not g.name.startswith(".") and g.name not in _SKIPPED_DIRS]
        header = (f"Files and directories up to 2 levels deep in {self._shown(path)}, "
                  "excluding hidden items and node_modules:")
        return "\n".join([header, *entries])

    def _create(self, path: Path, tool_input: dict[str, Any]) -> str:
        text = tool_input.get("file_text")
        if not isinstance(text, str):
            raise EditError("create needs `file_text`")
        if path.is_dir():
            raise EditError(f"{self._shown(path)} is a directory")
        self._make_parents(path.parent)
        self._write(path, text)
        return f"File created successfully at: {self._shown(path)}"

    def _str_replace(self, path: Path, tool_input: dict[str, Any]) -> str:
        old, new = tool_input.get("old_str"), tool_input.get("new_str") or ""
        if not isinstance(old, str) or not old:
            raise EditError("str_replace needs a non-empty `old_str`")
        text = self._read(path)
        count = text.count(old)
        if count == 0:
            raise EditError(f"no replacement was performed: old_str does not appear verbatim in {self._shown(path)}")
        if count > 1:
            starts = [text[:i].count("\n") + 1 for i in _find_all(text, old)]
            raise EditError(f"no replacement was performed: old_str occurs {count} times (lines {starts}); "
                            "include more context to make it unique")
        at = text.index(old)
        edited = text.replace(old, new, 1)
        self._write(path, edited)
        return self._edited(path, edited, text[:at].count("\n") + 1, new.count("\n") + 1)

    def _insert(self, path: Path, tool_input: dict[str, Any]) -> str:
        line = tool_input.get("insert_line")
        new = tool_input.get("insert_text", tool_input.get("new_str"))
        if not isinstance(line, int) or not isinstance(new, str):
            raise EditError("insert needs an integer `insert_line` and `insert_text`")
        lines = self._read(path).split("\n")
        if not 0 <= line <= len(lines):
            raise EditError(f"insert_line {line} is outside the file's range [0, {len(lines)}]")
        new_lines = new.split("\n")
        edited = "\n".join(lines[:line] + new_lines + lines[line:])
        self._write(path, edited)
        return self._edited(path, edited, line + 1, len(new_lines))

    def _make_parents(self, directory: Path) -> None:
        missing = []
        while not directory.exists():
            missing.append(directory)
            directory = directory.parent
        for new in reversed(missing):
            new.mkdir()
            if os.geteuid() == 0 and self._owner != (0, 0):
                os.chown(new, *self._owner, follow_symlinks=False)

    def _edited(self, path: Path, text: str, first: int, count: int) -> str:
        lines = text.split("\n")
        start = max(1, first - _SNIPPET_CONTEXT)
        end = min(len(lines), first + count - 1 + _SNIPPET_CONTEXT)
        return (f"The file {self._shown(path)} has been edited. Here is the result of running `cat -n` on a "
                f"snippet:\n{_numbered(lines[start - 1:end], start)}\nReview the changes and edit again if needed.")


def _entries(directory: Path) -> list[Path]:
    """A directory's entries, sorted, at most _MAX_LISTED of them (a model can make millions)."""
    with os.scandir(directory) as scan:
        return sorted(Path(entry.path) for entry in itertools.islice(scan, _MAX_LISTED))


def _find_all(text: str, needle: str) -> list[int]:
    found, at = [], text.find(needle)
    while at != -1:
        found.append(at)
        at = text.find(needle, at + 1)
    return found

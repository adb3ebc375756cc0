"""The text editor client tool (`text_editor_20250728`, named `str_replace_based_edit_tool`)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from agent.tools.protocol import ToolResult

_SNIPPET_CONTEXT = 4
_SKIPPED_DIRS = {"node_modules"}


class EditError(Exception):
    """A call the editor cannot carry out; its message goes back to the model."""


def _numbered(lines: list[str], first: int) -> str:
    return "\n".join(f"{n:6}\t{line}" for n, line in enumerate(lines, start=first))


class EditorTool:
    """view / create / str_replace / insert on files inside the workspace, and nowhere else."""

    def __init__(self, root: Path, *, max_characters: int):
        self._root = root.resolve()
        self._max_characters = max_characters
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

    def _open(self, path: Path, flags: int) -> int:
        """A descriptor on `path` that is not a link (O_NOFOLLOW) nor a second name of an outside file."""
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
            os.close(fd)  # a hard link may name a file outside the workspace
            raise EditError(f"{self._shown(path)} has several hard links; the editor does not open it")
        return fd

    def _write(self, path: Path, text: str) -> None:
        fd = self._open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            if os.geteuid() == 0 and self._owner != (0, 0):
                os.fchown(fd, *self._owner)  # the sandbox's command user must still be able to edit it
            handle.write(text)

    def _shown(self, path: Path) -> str:
        return str(path.relative_to(self._root)) if path != self._root else "."

    def _read(self, path: Path) -> str:
        if not path.is_file():
            raise EditError(f"{self._shown(path)} does not exist or is not a file")
        with os.fdopen(self._open(path, os.O_RDONLY), "rb") as handle:
            data = handle.read()
        if b"\0" in data[:8192]:
            raise EditError(f"{self._shown(path)} is a binary file")
        return data.decode("utf-8", errors="replace")

    def _cap(self, text: str) -> str:
        if len(text) <= self._max_characters:
            return text
        return text[: self._max_characters] + "\n[... truncated: use view_range to see the rest ...]"

    def _view(self, path: Path, tool_input: dict[str, Any]) -> str:
        if path.is_dir():
            return self._cap(self._listing(path))
        lines = self._read(path).split("\n")
        first, last = 1, len(lines)
        view_range = tool_input.get("view_range")
        if view_range is not None:
            if (not isinstance(view_range, list) or len(view_range) != 2
                    or not all(isinstance(n, int) for n in view_range)):
                raise EditError("view_range must be two integers [start, end]")
            first, last = view_range[0], (len(lines) if view_range[1] == -1 else view_range[1])
            if not 1 <= first <= len(lines) or last < first or last > len(lines):
                raise EditError(f"view_range {view_range} is outside the file's {len(lines)} lines")
        return self._cap(_numbered(lines[first - 1:last], first))

    def _listing(self, path: Path) -> str:
        entries: list[str] = []
        for child in sorted(path.iterdir()):
            if child.name.startswith(".") or child.name in _SKIPPED_DIRS:
                continue
            entries.append(self._shown(child) + ("/" if child.is_dir() else ""))
            if child.is_dir():
                entries += [self._shown(g) + ("/" if g.is_dir() else "") for g in sorted(child.iterdir())
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
        self._write(path, text.replace(old, new, 1))
        return self._edited(path, text[:at].count("\n") + 1, new.count("\n") + 1)

    def _insert(self, path: Path, tool_input: dict[str, Any]) -> str:
        line = tool_input.get("insert_line")
        new = tool_input.get("insert_text", tool_input.get("new_str"))
        if not isinstance(line, int) or not isinstance(new, str):
            raise EditError("insert needs an integer `insert_line` and `insert_text`")
        lines = self._read(path).split("\n")
        if not 0 <= line <= len(lines):
            raise EditError(f"insert_line {line} is outside the file's range [0, {len(lines)}]")
        new_lines = new.split("\n")
        self._write(path, "\n".join(lines[:line] + new_lines + lines[line:]))
        return self._edited(path, line + 1, len(new_lines))

    def _make_parents(self, directory: Path) -> None:
        missing = []
        while not directory.exists():
            missing.append(directory)
            directory = directory.parent
        for new in reversed(missing):
            new.mkdir()
            if os.geteuid() == 0 and self._owner != (0, 0):
                os.chown(new, *self._owner, follow_symlinks=False)

    def _edited(self, path: Path, first: int, count: int) -> str:
        lines = self._read(path).split("\n")
        start = max(1, first - _SNIPPET_CONTEXT)
        end = min(len(lines), first + count - 1 + _SNIPPET_CONTEXT)
        return (f"The file {self._shown(path)} has been edited. Here is the result of running `cat -n` on a "
                f"snippet:\n{_numbered(lines[start - 1:end], start)}\nReview the changes and edit again if needed.")


def _find_all(text: str, needle: str) -> list[int]:
    found, at = [], text.find(needle)
    while at != -1:
        found.append(at)
        at = text.find(needle, at + 1)
    return found

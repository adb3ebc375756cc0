"""Reading a model-made file in bounded memory: a window of its lines, each line and the whole cut to a limit."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator

_CHUNK = 1 << 16
LINE_CUT = " [... line truncated ...]"


@dataclass(frozen=True)
class Window:
    """Lines `first`.. of a file; `total` is its line count when the read reached its end."""

    lines: list[str]
    first: int
    total: int | None
    cut: bool  # stopped at the character limit before the window's end


def _raw_lines(fd: int, max_line: int) -> Iterator[bytes]:
    """Each line of the file (split on \\n like str.split), at most max_line + 1 bytes of it kept."""
    current = bytearray()
    while chunk := os.read(fd, _CHUNK):
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            current += chunk[start:min(end, start + max(0, max_line + 1 - len(current)))]
            yield bytes(current)
            current.clear()
            start = end + 1
        current += chunk[start:start + max(0, max_line + 1 - len(current))]
    yield bytes(current)


def _decoded(raw: bytes, max_line: int) -> str:
    text = raw[:max_line].decode("utf-8", errors="replace")
    return text + LINE_CUT if len(raw) > max_line else text


def read_window(fd: int, first: int, last: int | None, *, max_chars: int) -> Window:
    """Lines first..last (None: to the end) read from `fd`'s position, stopping once they pass max_chars.

    Memory stays bounded whatever the file holds: one chunk, one cut line and the kept lines.
    """
    max_line = max(1, max_chars // 2)
    kept: list[str] = []
    size, number = 0, 0
    for number, raw in enumerate(_raw_lines(fd, max_line), start=1):
        if number < first:
            continue
        if last is not None and number > last:
            return Window(kept, first, None, cut=False)
        text = _decoded(raw, max_line)
        size += len(text) + 8  # the line number and tab
        if size > max_chars and kept:
            return Window(kept, first, None, cut=True)
        kept.append(text)
    return Window(kept, first, number, cut=False)


def read_all(fd: int, limit: int) -> bytes | None:
    """The whole file from `fd`'s position, or None when it holds more than `limit` bytes."""
    data = bytearray()
    while chunk := os.read(fd, min(_CHUNK, limit + 1 - len(data))):
        data += chunk
        if len(data) > limit:
            return None
    return bytes(data)

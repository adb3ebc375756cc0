"""HTTP/1.1 framing for the egress proxy: heads read strictly, bodies relayed by the length they declare.

Whatever two parsers could read differently (Content-Length with Transfer-Encoding, a bad chunk size,
obs-fold, a bare CR or LF, an over-long head) ends the connection, so the proxy finds the next request's
head exactly where the server will.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Literal

from agent.sandbox.errors import BadMessage

HEAD_LIMIT = 16_384
CHUNKED: Literal["chunked"] = "chunked"
CLOSE: Literal["close"] = "close"  # a response body that ends when the server closes
Framing = int | Literal["chunked", "close"]
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,15}")
_DIGITS = re.compile(rb"[0-9]{1,18}")
_STATUS = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}


@dataclass(frozen=True)
class Head:
    """A message's start line and header fields (lower-case name, value, the line as received)."""

    start: str
    fields: tuple[tuple[str, bytes, bytes], ...]

    def values(self, name: str) -> list[bytes]:
        return [value for field, value, _ in self.fields if field == name]


async def read_head(reader: asyncio.StreamReader, timeout: float) -> bytes | None:
    """The next head, up to its blank line; None when the stream ends (or idles out) before one starts."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise BadMessage("the stream ended inside a head") from exc
        return None
    except asyncio.LimitOverrunError as exc:
        raise BadMessage("the head is too large") from exc
    except TimeoutError:
        return None
    if len(head) > HEAD_LIMIT:
        raise BadMessage("the head is too large")
    return head


def _field(line: bytes) -> tuple[str, bytes, bytes]:
    if b"\r" in line or b"\n" in line or b"\0" in line:
        raise BadMessage("a bare CR, LF or NUL in a head")
    if line[:1] in (b" ", b"\t"):
        raise BadMessage("obs-fold (a folded header line)")
    name, colon, value = line.partition(b":")
    if not colon or not _TOKEN.fullmatch(name):
        raise BadMessage("a malformed header field")
    return name.decode("ascii").lower(), value.strip(b" \t"), line


def parse_head(raw: bytes) -> Head:
    """A head as read by read_head, checked field by field."""
    start, *lines = raw[:-4].split(b"\r\n")
    if b"\r" in start or b"\n" in start:
        raise BadMessage("a bare CR or LF in the start line")
    try:
        text = start.decode("ascii")
    except UnicodeDecodeError as exc:
        raise BadMessage("a start line that is not ASCII") from exc
    return Head(text, tuple(_field(line) for line in lines))


def _content_length(head: Head) -> int | None:
    lengths = head.values("content-length")
    if not lengths:
        return None
    if len(set(lengths)) != 1 or not _DIGITS.fullmatch(lengths[0]):
        raise BadMessage("an invalid Content-Length")
    return int(lengths[0])


def request_framing(head: Head) -> Framing:
    """How a request's body ends: a length (0 for none) or chunked."""
    codings, length = head.values("transfer-encoding"), _content_length(head)
    if codings and length is not None:
        raise BadMessage("both Content-Length and Transfer-Encoding")
    if codings:
        if len(codings) != 1 or codings[0].lower() != b"chunked":
            raise BadMessage("a Transfer-Encoding other than chunked")
        return CHUNKED
    return length or 0


def response_framing(head: Head, method: str, status: int) -> Framing:
    """How a response's body ends (RFC 9112 section 6.3)."""
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return 0
    codings, length = head.values("transfer-encoding"), _content_length(head)
    if codings and length is not None:
        raise BadMessage("both Content-Length and Transfer-Encoding")
    if codings:
        last = b",".join(codings).split(b",")[-1].strip().lower()
        return CHUNKED if last == b"chunked" else CLOSE
    return CLOSE if length is None else length


async def _line(reader: asyncio.StreamReader) -> bytes:
    try:
        line = await reader.readuntil(b"\r\n")
    except asyncio.IncompleteReadError as exc:
        raise BadMessage("the stream ended inside a chunked body") from exc
    except asyncio.LimitOverrunError as exc:
        raise BadMessage("a chunk line is too long") from exc
    if b"\r" in line[:-2] or b"\n" in line[:-2]:
        raise BadMessage("a bare CR or LF in a chunk line")
    return line


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, size: int) -> None:
    while size:
        data = await reader.read(min(size, 65_536))
        if not data:
            raise BadMessage("the stream ended inside a body")
        writer.write(data)
        await writer.drain()
        size -= len(data)


async def relay_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, framing: Framing) -> None:
    """Copy one body as framed, checking chunk sizes and the CRLF after each chunk."""
    if framing == CLOSE:
        while data := await reader.read(65_536):
            writer.write(data)
            await writer.drain()
        return
    if isinstance(framing, int):
        return await _copy(reader, writer, framing)
    while True:
        line = await _line(reader)
        if not _CHUNK_SIZE.fullmatch(line[:-2].split(b";", 1)[0]):
            raise BadMessage("an invalid chunk size")
        writer.write(line)
        size = int(line[:-2].split(b";", 1)[0], 16)
        if size == 0:
            break
        await _copy(reader, writer, size)
        if await _line(reader) != b"\r\n":
            raise BadMessage("a chunk longer than its size")
        writer.write(b"\r\n")
    trailers = 0
    while (line := await _line(reader)) != b"\r\n":
        _field(line[:-2])
        trailers += len(line)
        if trailers > HEAD_LIMIT:
            raise BadMessage("the trailers are too large")
        writer.write(line)
    writer.write(b"\r\n")
    await writer.drain()


def answer(status: int, message: str) -> bytes:
    """The proxy's own response: a short text the command's output will show."""
    body = (message + "\n").encode()
    return (f"HTTP/1.1 {status} {_STATUS.get(status, 'Error')}\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body

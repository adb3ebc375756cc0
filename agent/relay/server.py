"""The relay's HTTP/1.1 server on a unix socket: the Messages API as an engine in the sandbox sees it.

Only `POST /v1/messages` and `POST /v1/messages/count_tokens` are served (any query string is kept); every
call is admitted by the meter before it leaves and settled from its reply's usage. The client's credential
headers are dropped; the upstream adds the real one. A streamed reply is passed on event by event as it
arrives; a whole reply is read first, so one whose usage cannot be read becomes an error instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import Any, Awaitable, Callable

from agent.relay.errors import UpstreamUnreachable
from agent.relay.estimate import unmarked
from agent.relay.meter import Admission, CallRecord, CallRefused, Meter
from agent.relay.replies import Reply, StreamReader
from agent.relay.upstream import Upstream, UpstreamReply
from agent.sandbox.errors import BadMessage
from agent.sandbox.http1 import CHUNKED, Head, parse_head, request_framing

log = logging.getLogger(__name__)
HEAD_LIMIT = 64 << 10
BODY_LIMIT = 32 << 20
REPLY_LIMIT = 32 << 20  # a whole (non-streamed) reply read before it is passed on
_PATHS = ("/v1/messages", "/v1/messages/count_tokens")
_FORWARDED = ("anthropic-version", "anthropic-beta", "content-type", "accept")
_IDLE = 300.0  # a kept-alive connection with no next request
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 413: "Payload Too Large", 502: "Bad Gateway"}
OnCall = Callable[[CallRecord], Awaitable[None]]


def error_body(kind: str, message: str) -> bytes:
    """The Anthropic error envelope."""
    return json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()


class _Answered(Exception):
    """The request was answered by the relay itself (status, kind, message)."""

    def __init__(self, status: int, kind: str, message: str):
        super().__init__(message)
        self.status, self.kind = status, kind


class ModelRelay:
    """One task's relay; `start()` binds the socket, `close()` stops it (the meter refuses everything after)."""

    def __init__(self, meter: Meter, upstream: Upstream, *, on_call: OnCall | None = None):
        self.meter = meter
        self._upstream = upstream
        self._on_call = on_call
        self._server: asyncio.AbstractServer | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._system: list[dict[str, Any]] = []
        self._messages: list[dict[str, Any]] = []

    async def start(self, socket_path: Path) -> None:
        """Listen on `socket_path`, connectable by the sandbox's uid (its directory decides who can reach it)."""
        self._server = await asyncio.start_unix_server(self._serve, path=str(socket_path), limit=HEAD_LIMIT)
        socket_path.chmod(0o666)

    async def close(self) -> None:
        """Refuse every later call and stop serving."""
        self.meter.close("the relay was closed")
        if self._server is not None:
            self._server.close()
            for writer in list(self._open):
                writer.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None

    def transcript(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(system blocks, messages incl. the last reply) of the newest main-model call, without cache markers."""
        return unmarked(self._system), unmarked(self._messages)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        try:
            while await self._exchange(reader, writer):
                pass
        except (ConnectionError, BadMessage, asyncio.IncompleteReadError):
            pass
        finally:
            self._open.discard(writer)
            writer.close()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection should end."""
        try:
            raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _IDLE)
        except (asyncio.IncompleteReadError, TimeoutError):
            return False
        except asyncio.LimitOverrunError:
            await _send_whole(writer, 413, error_body("request_too_large", "bgagent: the request head is too large"))
            return False
        head = parse_head(raw)
        keep = not any(v.lower() == b"close" for v in head.values("connection"))
        consumed = False  # a request whose body was not read leaves the connection unusable
        try:
            method, target, _ = _start_line(head.start)
            path, _, query = target.partition("?")
            body = await _read_body(reader, head)
            consumed = True
            if method != "POST" or path not in _PATHS:
                raise _Answered(404, "not_found_error", f"bgagent: {method} {path[:200]} is not served here")
            await self._forward(writer, path, query, head, body)
        except _Answered as answered:
            await _send_whole(writer, answered.status, error_body(answered.kind, str(answered)))
            return keep and consumed
        return keep

    async def _forward(self, writer: asyncio.StreamWriter, path: str, query: str, head: Head, raw: bytes) -> None:
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _Answered(400, "invalid_request_error", "bgagent: the request body must be a JSON object")
        headers = {name: value.decode("latin-1") for name, value, _ in head.fields if name in _FORWARDED}
        if path.endswith("count_tokens"):
            if self.meter.stopped == "closed":
                raise _Answered(400, "invalid_request_error", f"bgagent: {self.meter.stop_message}")
            return await self._pass(writer, await self._send(path, query, headers, body))
        try:
            call = self.meter.admit(body)
        except CallRefused as refused:
            log.info("model call refused: %s", refused)
            raise _Answered(400, "invalid_request_error", str(refused)) from refused
        try:
            reply = await self._send(path, query, headers, call.body)
        except _Answered:
            self.meter.release(call)
            raise
        if reply.status != 200:
            self.meter.release(call)
            return await self._pass(writer, reply)
        read = StreamReader() if call.body.get("stream") else Reply()
        settled = False

        async def settle() -> None:
            """Once: before the client sees the end of the reply, so the meter has it by then."""
            nonlocal settled
            if not settled:
                settled = True
                await self._settle(call, read)

        try:
            if isinstance(read, StreamReader):
                await self._stream(writer, reply, read, settle)
            else:
                await self._whole(writer, reply, read, settle)
        finally:
            # Also when the client went away mid-reply: the provider may have charged it, so it is never dropped.
            await settle()

    async def _send(self, path: str, query: str, headers: dict[str, str], body: dict[str, Any]) -> UpstreamReply:
        try:
            return await self._upstream.send(path, query, headers, body)
        except UpstreamUnreachable as exc:
            raise _Answered(502, "api_error", f"bgagent: {exc}") from exc

    async def _pass(self, writer: asyncio.StreamWriter, reply: UpstreamReply) -> None:
        """An answer that is not metered (an error, a token count): passed on whole."""
        try:
            data = await _read_all(reply)
        except UpstreamUnreachable as exc:
            raise _Answered(502, "api_error", f"bgagent: {exc}") from exc
        await _send_whole(writer, reply.status, data, reply.headers)

    async def _whole(self, writer: asyncio.StreamWriter, reply: UpstreamReply, read: Reply,
                     settle: Callable[[], Awaitable[None]]) -> None:
        data = b""
        try:
            data = await _read_all(reply)
            read.read_message(data)
        except UpstreamUnreachable:
            read.broken = True
        await settle()
        if read.broken:
            await _send_whole(writer, 502, error_body("api_error", "bgagent: the model's reply could not be read; "
                                                      "it was charged at its worst case"))
        else:
            await _send_whole(writer, 200, data, reply.headers)

    async def _stream(self, writer: asyncio.StreamWriter, reply: UpstreamReply, read: StreamReader,
                      settle: Callable[[], Awaitable[None]]) -> None:
        writer.write(_status_line(200, {**reply.headers, "transfer-encoding": "chunked"}))
        try:
            async for chunk in reply.chunks:
                for event in read.feed(chunk):
                    if read.ended or read.failed:  # its last event: metered before the client sees it
                        await settle()
                    await _send_chunk(writer, event)
                if read.broken:
                    break
        except UpstreamUnreachable:
            read.broken = True
        finally:
            await reply.close()
        if not read.broken:
            read.finish()
        await settle()
        if read.broken and not read.failed:  # the provider's own error event was passed on as it came
            await _send_chunk(writer, b"event: error\ndata: " + error_body(
                "api_error", "bgagent: the model's reply could not be read; it was charged at its worst case")
                + b"\n\n")
        await _send_chunk(writer, b"")

    async def _settle(self, call: Admission, read: Reply) -> None:
        usage = None if read.broken else read.usage
        record = self.meter.settle(call, usage, tools=read.tools, stop_reason=read.stop_reason)
        if call.is_turn:
            system = call.body.get("system") or []
            self._system = [{"type": "text", "text": system}] if isinstance(system, str) else list(system)
            self._messages = [*call.body.get("messages", []), {"role": "assistant", "content": read.content}]
        if self._on_call is not None:
            try:
                await self._on_call(record)
            except Exception:  # the trail is for people watching: it must not fail a call that is paid for
                log.exception("could not report model call %d", record.seq)


def _start_line(start: str) -> tuple[str, str, str]:
    parts = start.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _Answered(400, "invalid_request_error", "bgagent: a malformed request line")
    return parts[0], parts[1], parts[2]


async def _read_body(reader: asyncio.StreamReader, head: Head) -> bytes:
    framing = request_framing(head)
    if framing == CHUNKED:
        return await _read_chunked(reader)
    assert isinstance(framing, int)
    if framing > BODY_LIMIT:
        raise _Answered(413, "request_too_large", f"bgagent: the request body is over {BODY_LIMIT >> 20} MiB")
    return await reader.readexactly(framing)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        line = await reader.readuntil(b"\r\n")
        try:
            size = int(line[:-2].split(b";", 1)[0], 16)
        except ValueError as exc:
            raise BadMessage("an invalid chunk size") from exc
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailers are not used
            return bytes(body)
        if len(body) + size > BODY_LIMIT:
            raise _Answered(413, "request_too_large", f"bgagent: the request body is over {BODY_LIMIT >> 20} MiB")
        body += await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise BadMessage("a chunk longer than its size")


async def _read_all(reply: UpstreamReply) -> bytes:
    data = bytearray()
    try:
        async for chunk in reply.chunks:
            data += chunk
            if len(data) > REPLY_LIMIT:
                raise UpstreamUnreachable("the model API's reply is too large")
    finally:
        await reply.close()
    return bytes(data)


def _status_line(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _send_whole(writer: asyncio.StreamWriter, status: int, data: bytes,
                      headers: dict[str, str] | None = None) -> None:
    fields = {"content-type": "application/json", **(headers or {}), "content-length": str(len(data))}
    writer.write(_status_line(status, fields) + data)
    await writer.drain()


async def _send_chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    await writer.drain()

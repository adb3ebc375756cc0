"""Plain HTTP through the egress proxy: every request on a connection is vetted, then forwarded in order.

Each request names its destination in its absolute URI and its Host header must name the same host and
port. Consecutive requests to one destination share one upstream connection to the vetted address; a
request to another destination is vetted like the first and gets its own upstream, and responses come
back in the order of the requests. The first refused request is answered (after the responses before it)
and ends the connection: nothing after it is read or sent anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from agent.sandbox.egress_policy import Verdict
from agent.sandbox.errors import BadMessage
from agent.sandbox.http1 import (
    CLOSE,
    Head,
    answer,
    parse_head,
    read_head,
    relay_body,
    request_framing,
    response_framing,
)
from shared.repos.egress import normal_host

_IDLE_TIMEOUT = 60.0  # a keep-alive connection with no next request
_RESPONSE_TIMEOUT = 300.0
_PIPELINE_DEPTH = 32
_DROPPED = {"proxy-connection", "proxy-authorization", "upgrade"}  # the proxy's, or a switch to unvetted bytes
Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Gate(Protocol):
    """What the proxy decides with: vetting (recorded), recording a refusal, connecting to a vetted address."""

    async def vet(self, host: str, port: int) -> Verdict: ...

    async def record(self, host: str, port: int, verdict: Verdict) -> None: ...

    async def connect(self, address: str, port: int) -> Streams: ...


@dataclass(frozen=True)
class ProxyRequest:
    """A request line and head as the sandbox sent them to the proxy."""

    method: str
    target: str
    version: str
    head: Head

    @property
    def connect(self) -> bool:
        return self.method == "CONNECT"

    def destination(self) -> tuple[str, int]:
        """(host, port) of a CONNECT target or an http:// absolute URI."""
        if self.connect:
            host, _, number = self.target.rpartition(":")
            if not host or not number.isdigit() or not 0 < int(number) < 65_536:
                raise BadMessage("CONNECT needs host:port")
            return host.strip("[]"), int(number)
        url = urlsplit(self.target)
        try:
            port = url.port or 80
        except ValueError as exc:
            raise BadMessage("an invalid port in the URL") from exc
        if url.scheme != "http" or not url.hostname:
            raise BadMessage("only http:// URLs and CONNECT are proxied")
        return url.hostname, port

    def host_mismatch(self) -> str | None:
        """Why the Host header does not name the URI's host and port, if it does not."""
        host, port = self.destination()
        given = self.head.values("host")
        if not given:
            return None  # origin_form() adds the vetted one
        try:
            text = given[0].decode("ascii")
            named = urlsplit("//" + text)
            same = (len(given) == 1 and "@" not in text and not named.path and not named.query
                    and normal_host(named.hostname or "") == normal_host(host) and (named.port or 80) == port)
        except (UnicodeDecodeError, ValueError):
            same = False
        return None if same else f"Host header {given[0][:100]!r} does not name {host}:{port}"

    def origin_form(self) -> bytes:
        """The head to send upstream: origin-form target, without the proxy's own fields."""
        url = urlsplit(self.target)
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        lines = [f"{self.method} {path} {self.version}".encode()]
        if not self.head.values("host"):
            lines.append(b"Host: " + url.netloc.rpartition("@")[2].encode())
        lines += [line for name, _, line in self.head.fields if name not in _DROPPED]
        return b"\r\n".join(lines) + b"\r\n\r\n"


def parse_request(raw: bytes) -> ProxyRequest:
    """A proxy request from its head; BadMessage for anything but HTTP/1.x CONNECT or absolute-form http://."""
    head = parse_head(raw)
    parts = head.start.split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadMessage("malformed request line")
    request = ProxyRequest(parts[0], parts[1], parts[2], head)
    request.destination()
    return request


@dataclass(frozen=True)
class _Sent:
    upstream: Streams
    method: str


class PlainExchange:
    """One sandbox connection carrying plain HTTP requests."""

    def __init__(self, client: Streams, gate: Gate, open_writers: set[asyncio.StreamWriter]):
        self._reader, self._writer = client
        self._gate = gate
        self._tracked = open_writers  # the proxy closes these when the task ends
        self._upstreams: list[asyncio.StreamWriter] = []
        self._queue: asyncio.Queue[_Sent | bytes | None] = asyncio.Queue()
        self._in_flight = asyncio.Semaphore(_PIPELINE_DEPTH)

    async def run(self, first: ProxyRequest) -> None:
        requests = asyncio.create_task(self._requests(first))
        try:
            await self._responses()
        finally:
            requests.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await requests
            for writer in self._upstreams:
                writer.close()
            self._tracked.difference_update(self._upstreams)
            self._writer.close()

    async def _requests(self, request: ProxyRequest | None) -> None:
        upstream: tuple[tuple[str, int], Streams] | None = None
        try:
            while request is not None:
                if request.connect:
                    self._queue.put_nowait(answer(400, "bgagent egress proxy: CONNECT must come first"))
                    return
                host, port = request.destination()
                framing = request_framing(request.head)
                if mismatch := request.host_mismatch():
                    await self._gate.record(host, port, Verdict(False, reason=mismatch))
                    self._queue.put_nowait(answer(403, f"bgagent egress proxy refused: {mismatch}"))
                    return
                if upstream is None or upstream[0] != (normal_host(host), port):
                    if (streams := await self._open(host, port)) is None:
                        return
                    upstream = (normal_host(host), port), streams
                up_writer = upstream[1][1]
                await self._in_flight.acquire()  # the responses a client may have outstanding are bounded
                up_writer.write(request.origin_form())
                self._queue.put_nowait(_Sent(upstream[1], request.method))
                await up_writer.drain()
                try:
                    await relay_body(self._reader, up_writer, framing)
                except BadMessage:
                    self._abort()  # half a body went out: no answer can follow it in order
                    return
                raw = await read_head(self._reader, _IDLE_TIMEOUT)
                request = parse_request(raw) if raw is not None else None
        except BadMessage as exc:
            self._queue.put_nowait(answer(400, f"bgagent egress proxy: {exc}"))
        except (ConnectionError, OSError):
            pass
        finally:
            self._queue.put_nowait(None)

    def _abort(self) -> None:
        for writer in (*self._upstreams, self._writer):
            writer.close()

    async def _open(self, host: str, port: int) -> Streams | None:
        verdict = await self._gate.vet(host, port)
        if not verdict.allowed:
            self._queue.put_nowait(answer(403, f"bgagent egress proxy refused {host}:{port}: {verdict.reason}"))
            return None
        try:
            streams = await self._gate.connect(verdict.address or "", port)
        except (OSError, TimeoutError) as exc:
            self._queue.put_nowait(answer(502, f"bgagent egress proxy could not reach {host}:{port}: {exc}"))
            return None
        self._upstreams.append(streams[1])
        self._tracked.add(streams[1])
        return streams

    async def _responses(self) -> None:
        previous: asyncio.StreamWriter | None = None
        while (item := await self._queue.get()) is not None:
            if previous is not None and not isinstance(item, bytes) and item.upstream[1] is not previous:
                previous.close()  # every response it owed has been relayed
            if isinstance(item, bytes):
                self._writer.write(item)
                with contextlib.suppress(ConnectionError, OSError):
                    await self._writer.drain()
                return
            previous = item.upstream[1]
            try:
                if not await self._relay_response(item):
                    return
            except (BadMessage, ConnectionError, OSError):
                return
            self._in_flight.release()

    async def _relay_response(self, sent: _Sent) -> bool:
        """Relay one response (after any 1xx); False when the connection ends with it."""
        while True:
            raw = await read_head(sent.upstream[0], _RESPONSE_TIMEOUT)
            if raw is None:
                return False
            head = parse_head(raw)
            status = head.start.split(" ", 2)[1] if head.start.count(" ") >= 1 else ""
            if not head.start.startswith("HTTP/1.") or not status.isdigit() or status == "101":
                raise BadMessage("a malformed or switching response")
            self._writer.write(raw)
            if not 100 <= int(status) < 200:
                break
        framing = response_framing(head, sent.method, int(status))
        await relay_body(sent.upstream[0], self._writer, framing)
        await self._writer.drain()
        return framing != CLOSE

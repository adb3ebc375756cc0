"""The egress proxy: HTTP CONNECT and plain HTTP from the sandbox, to allowlisted public hosts only.

It listens on a unix socket that only the task's sandbox sees; every decision is reported
(host, port, verdict) so a user can tell why an install failed. What goes out is what was vetted:
a CONNECT tunnel carries TLS whose ClientHello names the vetted host (SNI), and every plain HTTP
request on a connection is vetted with its Host header (egress_http.py).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Awaitable, Callable

from agent.sandbox.egress_http import PlainExchange, ProxyRequest, Streams, parse_request
from agent.sandbox.egress_policy import EgressPolicy, Verdict
from agent.sandbox.errors import BadMessage
from agent.sandbox.http1 import HEAD_LIMIT, answer, read_head
from agent.sandbox.tls_hello import read_client_hello, server_name
from shared.repos.egress import normal_host

log = logging.getLogger(__name__)
OnDecision = Callable[[str, int, Verdict], Awaitable[None]]
# `egress: ask`: told of each connection to an unlisted host; answers (approved, what the refusal adds) at once.
OnUnlisted = Callable[[str, int], Awaitable[tuple[bool, str]]]
_CONNECT_TIMEOUT = 10.0
_HELLO_TIMEOUT = 10.0
_UPSTREAM_LIMIT = 65_536


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65_536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


class EgressProxy:
    """One task's proxy; `start()` binds the socket, `close()` stops it."""

    def __init__(self, policy: EgressPolicy, on_decision: OnDecision, on_unlisted: OnUnlisted | None = None):
        # Its own short directory: a unix socket path has at most 107 bytes, a workspace path may not.
        self._dir = Path(tempfile.mkdtemp(prefix="bgagent-egress-"))
        self.socket_path = self._dir / "egress.sock"
        self._policy = policy
        self._on_decision = on_decision
        self._on_unlisted = on_unlisted
        self._server: asyncio.AbstractServer | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._handle, path=str(self.socket_path), limit=HEAD_LIMIT)
        self.socket_path.chmod(0o666)  # the sandbox's command user must be able to connect

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._open):  # a tunnel the task left open ends with the task
                writer.close()
            await asyncio.wait_for(self._server.wait_closed(), _CONNECT_TIMEOUT)
            self._server = None
        shutil.rmtree(self._dir, ignore_errors=True)

    async def vet(self, host: str, port: int) -> Verdict:
        """The policy's verdict, recorded."""
        verdict = await self._verdict(host, port)
        await self._on_decision(host, port, verdict)
        return verdict

    async def _verdict(self, host: str, port: int) -> Verdict:
        """The policy's verdict; under `egress: ask`, an unlisted host is asked about (and allowed once approved)."""
        verdict = await self._policy.vet(host, port)
        if verdict.unlisted and self._on_unlisted is not None:
            verdict = await self._asked(host, port, verdict)
        return verdict

    async def record(self, host: str, port: int, verdict: Verdict) -> None:
        await self._on_decision(host, port, verdict)

    async def connect(self, address: str, port: int) -> Streams:
        return await asyncio.wait_for(asyncio.open_connection(address, port, limit=_UPSTREAM_LIMIT), _CONNECT_TIMEOUT)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        try:
            raw = await read_head(reader, _CONNECT_TIMEOUT)
            if raw is None:
                raise BadMessage("no request")
            request = parse_request(raw)
        except BadMessage as exc:
            await self._reply(writer, 400, f"bgagent egress proxy: {exc}")
            return
        try:
            if request.connect:
                await self._tunnel(request, reader, writer)
            else:
                await PlainExchange((reader, writer), self, self._open).run(request)
        finally:
            self._open.discard(writer)

    async def _tunnel(self, request: ProxyRequest, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        """CONNECT: vet the target, then read the ClientHello and relay it only if its SNI names the target."""
        host, port = request.destination()
        verdict = await self._verdict(host, port)
        if not verdict.allowed:
            await self.record(host, port, verdict)
            return await self._reply(writer, 403, f"bgagent egress proxy refused {host}:{port}: {verdict.reason}")
        try:
            up_reader, up_writer = await self.connect(verdict.address or "", port)
        except (OSError, TimeoutError) as exc:
            await self.record(host, port, verdict)
            return await self._reply(writer, 502, f"bgagent egress proxy could not reach {host}:{port}: {exc}")
        self._open.add(up_writer)
        try:
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            try:
                hello, body = await asyncio.wait_for(read_client_hello(reader), _HELLO_TIMEOUT)
                named = server_name(body)
                if normal_host(named) != normal_host(host):
                    raise BadMessage(f"the TLS ClientHello names {named[:100]!r}, not {host}")
            except (BadMessage, TimeoutError) as exc:
                await self.record(host, port, Verdict(False, reason=str(exc) or "no TLS ClientHello in time"))
                writer.close()
                return
            await self.record(host, port, verdict)
            up_writer.write(hello)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            up_writer.close()
            self._open.discard(up_writer)

    async def _asked(self, host: str, port: int, refused: Verdict) -> Verdict:
        """An unlisted host under `egress: ask`: listed once its owner approved, else refused with where it stands."""
        assert self._on_unlisted is not None
        approved, note = await self._on_unlisted(host, port)
        if not approved:
            return replace(refused, reason=f"{refused.reason}; {note}")
        self._policy.allow(host, port)
        return await self._policy.vet(host, port)  # the address rule still applies

    @staticmethod
    async def _reply(writer: asyncio.StreamWriter, status: int, message: str) -> None:
        writer.write(answer(status, message))
        try:
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        writer.close()

"""The egress proxy: HTTP CONNECT and plain HTTP from the sandbox, to allowlisted public hosts only.

It listens on a unix socket that only the task's sandbox sees; every decision is reported
(host, port, verdict) so a user can tell why an install failed.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Awaitable, Callable
from urllib.parse import urlsplit

from agent.sandbox.egress_policy import EgressPolicy, Verdict

log = logging.getLogger(__name__)
OnDecision = Callable[[str, int, Verdict], Awaitable[None]]
# `egress: ask`: told of each connection to an unlisted host; answers (approved, what the refusal adds) at once.
OnUnlisted = Callable[[str, int], Awaitable[tuple[bool, str]]]
_HEAD_LIMIT = 16_384
_CONNECT_TIMEOUT = 10.0
_DROPPED_HEADERS = (b"proxy-connection:", b"proxy-authorization:")


class BadRequest(Exception):
    """The sandbox sent something that is not a proxy request."""


def parse_head(head: bytes) -> tuple[str, str, int, bytes]:
    """(method, host, port, what to send upstream first) of a proxy request's head."""
    request_line, _, rest = head.partition(b"\r\n")
    try:
        method, target, version = request_line.decode("ascii").split(" ")
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("malformed request line") from exc
    if method == "CONNECT":
        host, _, port = target.rpartition(":")
        if not host or not port.isdigit():
            raise BadRequest("CONNECT needs host:port")
        return method, host.strip("[]"), int(port), b""
    url = urlsplit(target)
    if url.scheme != "http" or not url.hostname:
        raise BadRequest("only http:// URLs and CONNECT are proxied")
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    headers = [h for h in rest.split(b"\r\n") if not h.lower().startswith(_DROPPED_HEADERS)]
    first = f"{method} {path} {version}\r\n".encode() + b"\r\n".join(headers)
    return method, url.hostname, url.port or 80, first


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
        self._server = await asyncio.start_unix_server(self._handle, path=str(self.socket_path))
        self.socket_path.chmod(0o666)  # the sandbox's command user must be able to connect

    def install(self, script: Path) -> Path:
        """A world-readable copy of `script` beside the socket (the source tree may not be readable to the sandbox)."""
        copy = self._dir / script.name
        shutil.copyfile(script, copy)
        copy.chmod(0o644)
        return copy

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._open):  # a tunnel the task left open ends with the task
                writer.close()
            await asyncio.wait_for(self._server.wait_closed(), _CONNECT_TIMEOUT)
            self._server = None
        shutil.rmtree(self._dir, ignore_errors=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _CONNECT_TIMEOUT)
            if len(head) > _HEAD_LIMIT:
                raise BadRequest("request head too large")
            method, host, port, first = parse_head(head)
        except (BadRequest, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError) as exc:
            await self._reply(writer, 400, f"bgagent egress proxy: {exc}")
            return
        verdict = await self._policy.vet(host, port)
        if verdict.unlisted and self._on_unlisted is not None:
            verdict = await self._asked(host, port, verdict)
        await self._on_decision(host, port, verdict)
        if not verdict.allowed:
            await self._reply(writer, 403, f"bgagent egress proxy refused {host}:{port}: {verdict.reason}")
            return
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(verdict.address, port), _CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            await self._reply(writer, 502, f"bgagent egress proxy could not reach {host}:{port}: {exc}")
            return
        if method == "CONNECT":
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            up_writer.write(first)
        self._open |= {writer, up_writer}
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self._open -= {writer, up_writer}

    async def _asked(self, host: str, port: int, refused: Verdict) -> Verdict:
        """An unlisted host under `egress: ask`: listed once its owner approved, else refused with where it stands."""
        assert self._on_unlisted is not None
        approved, note = await self._on_unlisted(host, port)
        if not approved:
            return replace(refused, reason=f"{refused.reason}; {note}")
        self._policy.allow(host)
        return await self._policy.vet(host, port)  # the address rule still applies

    @staticmethod
    async def _reply(writer: asyncio.StreamWriter, status: int, message: str) -> None:
        body = (message + "\n").encode()
        writer.write(f"HTTP/1.1 {status} {'Forbidden' if status == 403 else 'Error'}\r\n"
                     f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                     .encode() + body)
        try:
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        writer.close()

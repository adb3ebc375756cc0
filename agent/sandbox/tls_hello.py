"""The server name a TLS ClientHello asks for, read before the egress proxy relays a CONNECT tunnel's bytes.

The hello is buffered whole (it may span records), bounded in size; anything that is not one well-formed
ClientHello with exactly one host_name, or that hides the name (Encrypted Client Hello), is refused.
"""

from __future__ import annotations

import asyncio

from agent.sandbox.errors import BadMessage

HELLO_LIMIT = 32_768
_HANDSHAKE, _CLIENT_HELLO = 0x16, 0x01
_SERVER_NAME = 0x0000
_HIDDEN_NAME = {0xFE0D, 0xFFCE}  # Encrypted Client Hello, and the draft ESNI before it


async def read_client_hello(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """(the bytes read, the ClientHello message's body) from the start of a TLS stream."""
    raw, handshake = b"", b""
    try:
        while True:
            header = await reader.readexactly(5)
            length = int.from_bytes(header[3:5], "big")
            if header[0] != _HANDSHAKE or header[1] != 3 or not 0 < length <= 16_384:
                raise BadMessage("the tunnel does not start with a TLS handshake")
            fragment = await reader.readexactly(length)
            raw, handshake = raw + header + fragment, handshake + fragment
            if len(raw) > HELLO_LIMIT:
                raise BadMessage("the TLS ClientHello is too large")
            if len(handshake) >= 4:
                if handshake[0] != _CLIENT_HELLO:
                    raise BadMessage("the TLS handshake does not start with a ClientHello")
                end = 4 + int.from_bytes(handshake[1:4], "big")
                if len(handshake) > end:
                    raise BadMessage("bytes after the TLS ClientHello in its record")
                if len(handshake) == end:
                    return raw, handshake[4:]
    except asyncio.IncompleteReadError as exc:
        raise BadMessage("the stream ended inside the TLS ClientHello") from exc


class _Cursor:
    """Reads length-prefixed fields of a TLS message, refusing any that overruns."""

    def __init__(self, data: bytes):
        self._data, self._at = data, 0

    def take(self, size: int) -> bytes:
        if self._at + size > len(self._data):
            raise BadMessage("malformed TLS ClientHello")
        self._at += size
        return self._data[self._at - size:self._at]

    def number(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def vector(self, size: int) -> _Cursor:
        return _Cursor(self.take(self.number(size)))

    def rest(self) -> bytes:
        return self.take(len(self._data) - self._at)

    @property
    def done(self) -> bool:
        return self._at == len(self._data)


def server_name(hello: bytes) -> str:
    """The one host_name of a ClientHello's server_name extension; BadMessage when absent, hidden or malformed."""
    body = _Cursor(hello)
    body.take(2 + 32)  # legacy version, random
    for length_size in (1, 2, 1):  # session id, cipher suites, compression methods
        body.vector(length_size)
    extensions = body.vector(2) if not body.done else _Cursor(b"")
    if not body.done:
        raise BadMessage("malformed TLS ClientHello")
    seen: dict[int, bytes] = {}
    while not extensions.done:
        kind, data = extensions.number(2), extensions.vector(2)
        if kind in seen:
            raise BadMessage("a TLS extension appears twice")
        seen[kind] = data.rest()
    if _HIDDEN_NAME & seen.keys():
        raise BadMessage("Encrypted Client Hello hides the server name")
    if _SERVER_NAME not in seen:
        raise BadMessage("the TLS ClientHello names no server (SNI)")
    extension = _Cursor(seen[_SERVER_NAME])
    names = extension.vector(2)
    if not extension.done:
        raise BadMessage("malformed TLS server_name extension")
    hosts = []
    while not names.done:
        name_type, name = names.number(1), names.vector(2)
        if name_type == 0:
            hosts.append(name.rest())
    if len(hosts) != 1:
        raise BadMessage("the TLS ClientHello's server_name has no single host_name")
    try:
        return hosts[0].decode("ascii")
    except UnicodeDecodeError as exc:
        raise BadMessage("the TLS server name is not ASCII") from exc

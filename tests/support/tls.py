"""TLS bytes for tests of the egress proxy: a real client's first flight."""

from __future__ import annotations

import ssl

import pytest


def client_hello(server_hostname: str | None) -> bytes:
    """The first flight of a real TLS client (the ssl module's), naming `server_hostname` or nothing."""
    context = ssl.create_default_context()
    context.check_hostname = server_hostname is not None
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=server_hostname)
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()

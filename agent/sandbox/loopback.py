"""Serving a unix socket of the runtime on 127.0.0.1:PORT, for a sandbox without a network namespace.

In `two-user` the command user shares the runtime's loopback, and the socket (the relay's) sits in a
directory only the runtime may enter: the runtime itself listens and forwards, byte for byte.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

_CHUNK = 65_536


async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    """Copy `src` to `dst` until either ends, then close `dst`."""
    try:
        while data := await src.read(_CHUNK):
            dst.write(data)
            await dst.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            dst.close()


async def serve_socket(port: int, path: Path) -> asyncio.Server:
    """Listen on 127.0.0.1:`port`; each connection is joined to a new connection to the unix socket `path`."""

    async def join(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_unix_connection(str(path))
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    return await asyncio.start_server(join, "127.0.0.1", port)

"""A unix-socket tap in front of another socket: records every byte clients send through it, passes all on.

Tests put it between the sandbox and the model relay to see the requests exactly as the sandbox sent them
(headers included), which the relay itself never passes on.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from agent.sandbox.loopback import pipe


class _Recorded:
    """A reader that keeps a copy of what is read through it."""

    def __init__(self, reader: asyncio.StreamReader, record: bytearray):
        self._reader = reader
        self._record = record

    async def read(self, n: int = -1) -> bytes:
        data = await self._reader.read(n)
        self._record += data
        return data


class SocketTap:
    """Listens on `path`, forwards each connection to `target`, keeps what the clients sent."""

    def __init__(self, target: Path):
        self._target = target
        self._sent: list[bytearray] = []
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def sent(self) -> bytes:
        """Everything clients sent, connection after connection."""
        return b"".join(bytes(chunk) for chunk in self._sent)

    async def start(self, path: Path) -> None:
        self._server = await asyncio.start_unix_server(self._serve, path=str(path))
        path.chmod(0o666)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        record = bytearray()
        self._sent.append(record)
        up_reader, up_writer = await asyncio.open_unix_connection(str(self._target))
        recorded: Any = _Recorded(reader, record)  # read like a StreamReader by pipe()
        both = [asyncio.create_task(pipe(recorded, up_writer)), asyncio.create_task(pipe(up_reader, writer))]
        self._tasks.update(both)
        await asyncio.gather(*both, return_exceptions=True)
        self._tasks.difference_update(both)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 5)


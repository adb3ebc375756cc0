"""Serve an ASGI app on loopback in a background thread, for the HTTP test doubles."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

_HOST = "127.0.0.1"


def _accepts_connections(port: int) -> bool:
    """Return True when something accepts TCP connections on the loopback port."""
    try:
        with socket.create_connection((_HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


@contextmanager
def serve_app(app: Any, *, startup_timeout: float = 10.0) -> Iterator[str]:
    """Run `app` with uvicorn on 127.0.0.1 and yield its base URL (`http://127.0.0.1:PORT`)."""
    # Bind the socket ourselves and hand it to uvicorn: asking the OS for port 0
    # and then re-binding by number would race with other servers started by
    # parallel tests, while a pre-bound socket can never be stolen.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this. Without it a pre-bound socket serves
    # every response ~40 ms late (Nagle vs. the client's delayed ACK).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((_HOST, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        # No dictConfig: uvicorn's would reconfigure logging process-wide on every
        # start; unconfigured, its records propagate to pytest's log capture.
        log_config=None,
        lifespan="off",
        # A request still in flight when the block exits (a client in another
        # thread) must not stall shutdown for long.
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    # uvicorn only installs signal handlers on the main thread, so a daemon
    # thread is safe and never keeps the pytest process alive.
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not (server.started and _accepts_connections(port)):
            if not thread.is_alive():
                raise RuntimeError(f"uvicorn exited before serving on port {port}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on port {port} within {startup_timeout}s")
            time.sleep(0.01)
        yield f"http://{_HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

"""What the escape probes try to reach: a secret in the host's home, another process's environment, a listener
on the host's loopback and an allowlisted host; shared by the sandbox suites of both engines."""

from __future__ import annotations

import http.server
import ipaddress
import socket
import subprocess
import threading
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from agent.sandbox.egress_policy import system_resolver
from agent.sandbox.factory import SandboxConfig, SandboxFactory

ALLOWED_HOST = "allowed.test"

HOME_SECRET = "ssh-key-" + uuid.uuid4().hex
ENV_SECRET = "sk-ant-api03-" + uuid.uuid4().hex
ALLOWED_BODY = "hello-from-the-allowlisted-host"


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        body = ALLOWED_BODY.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def allowed_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def loopback_listener() -> Iterator[tuple[int, list[bytes]]]:
    """A listener of the test on loopback that records whatever reaches it."""
    received: list[bytes] = []
    sock = socket.create_server(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            received.append(conn.recv(100) or b"(connected)")
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield sock.getsockname()[1], received
    stop.set()
    thread.join()
    sock.close()


@pytest.fixture
def secret_process() -> Iterator[int]:
    """Another process that holds a secret in its environment, as the runtime or a service would."""
    proc = subprocess.Popen(["sleep", "300"], env={"ANTHROPIC_API_KEY": ENV_SECRET})
    yield proc.pid
    proc.kill()
    proc.wait()


@pytest.fixture
def planted_home_file() -> Iterator[Path]:
    """A credential-like file in the stack user's real home."""
    path = Path.home() / f".bgagent-escape-test-{uuid.uuid4().hex[:8]}"
    path.write_text(HOME_SECRET)
    yield path
    path.unlink()


def allowed_host_factory(config: SandboxConfig) -> SandboxFactory:
    """A sandbox factory where only ALLOWED_HOST maps to loopback, and only loopback is an admitted address."""

    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host == ALLOWED_HOST else await system_resolver(host, port)

    return SandboxFactory(config, resolver=resolver, address_allowed=lambda ip: ip == ipaddress.ip_address("127.0.0.1"))

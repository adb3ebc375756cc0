"""The endpoints ECS serves inside a task, on loopback: task metadata (v4) and the agent's task protection."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class EcsEndpoints:
    """What one task's container sees: its ARN, and every protection state it asked for."""

    task_arn: str
    metadata_uri: str = ""
    agent_uri: str = ""
    protection: list[dict] = field(default_factory=list)

    @property
    def protected(self) -> bool:
        return bool(self.protection) and bool(self.protection[-1]["ProtectionEnabled"])

    def env(self) -> dict[str, str]:
        """The variables ECS injects into the container."""
        return {"ECS_CONTAINER_METADATA_URI_V4": self.metadata_uri, "ECS_AGENT_URI": self.agent_uri}


def _handler(state: EcsEndpoints) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _reply(self, status: int, body: dict) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/v4/task":
                self._reply(200, {"TaskARN": state.task_arn, "Cluster": state.task_arn.split("/")[1]})
            else:
                self._reply(404, {})

        def do_PUT(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if self.path != "/api/task-protection/v1/state" or "ProtectionEnabled" not in body:
                self._reply(400, {"error": {"Code": "InvalidParameterException"}})
                return
            state.protection.append(body)
            self._reply(200, {"protection": {"ProtectionEnabled": body["ProtectionEnabled"],
                                             "TaskArn": state.task_arn}})

    return Handler


@contextmanager
def ecs_endpoints(task_arn: str) -> Iterator[EcsEndpoints]:
    """Serve one task's endpoints on 127.0.0.1 for as long as the block runs."""
    state = EcsEndpoints(task_arn)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    state.metadata_uri, state.agent_uri = f"{base}/v4", f"{base}/api"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()

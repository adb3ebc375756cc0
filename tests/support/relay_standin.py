"""A stand-in for the model relay in engine tests: a unix socket that forwards the Messages API to the fake.

It does what the sandbox needs from the relay and nothing of its metering: it records each request as
the sandbox sent it (headers included, to prove no key came from inside), swaps the placeholder key for
the fake's, and answers a streaming request as the real API would (SSE events, tool input as
`input_json_delta`) from the fake's JSON reply.
"""

from __future__ import annotations

import copy
import json
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

_FORWARDED = ("anthropic-version", "anthropic-beta", "content-type")


def _event(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"


def sse_events(message: dict[str, Any]) -> Iterator[str]:
    """A complete JSON message as the stream of events the real API sends for it."""
    usage = dict(message.get("usage") or {})
    output_tokens = usage.pop("output_tokens", 0)
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None,
             "usage": {**usage, "output_tokens": 1}}
    yield _event("message_start", {"message": start})
    for index, block in enumerate(message.get("content") or []):
        if block.get("type") == "tool_use":
            yield _event("content_block_start", {"index": index, "content_block": {**block, "input": {}}})
            raw = json.dumps(block.get("input") or {})
            for cut in range(0, len(raw), 40):
                yield _event("content_block_delta", {"index": index, "delta": {
                    "type": "input_json_delta", "partial_json": raw[cut:cut + 40]}})
        else:
            text = block.get("text", "")
            yield _event("content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}})
            yield _event("content_block_delta", {"index": index, "delta": {"type": "text_delta", "text": text}})
        yield _event("content_block_stop", {"index": index})
    yield _event("message_delta", {"delta": {"stop_reason": message.get("stop_reason"), "stop_sequence": None},
                                   "usage": {"output_tokens": output_tokens}})
    yield _event("message_stop", {})


class RelayStandIn:
    """Serves the fake Anthropic at `upstream` on a unix socket, as the relay would to the sandbox."""

    def __init__(self, upstream: str, api_key: str):
        self._upstream = upstream.rstrip("/")
        self._api_key = api_key
        self._lock = threading.Lock()
        self._received: list[dict[str, Any]] = []
        self._arrived: list[float] = []
        self.app = self._build_app()

    @property
    def received(self) -> list[dict[str, Any]]:
        """Each request as the sandbox sent it: {path, headers, body}."""
        with self._lock:
            return copy.deepcopy(self._received)

    def first_arrival(self) -> float | None:
        """When the first request arrived (time.time()), if any did."""
        with self._lock:
            return self._arrived[0] if self._arrived else None

    def _build_app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/messages")
        async def messages(request: Request) -> Response:
            raw = await request.body()
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"raw": raw.decode("utf-8", "replace")}
            with self._lock:
                self._received.append({"path": request.url.path, "query": request.url.query,
                                       "headers": dict(request.headers), "body": copy.deepcopy(body)})
                self._arrived.append(time.time())
            stream = isinstance(body, dict) and bool(body.pop("stream", False))
            headers = {k: v for k, v in request.headers.items() if k in _FORWARDED}
            async with httpx.AsyncClient(timeout=60) as client:
                reply = await client.post(f"{self._upstream}/v1/messages", json=body,
                                          headers={**headers, "x-api-key": self._api_key})
            if reply.status_code != 200 or not stream:
                return JSONResponse(reply.json(), status_code=reply.status_code)
            return StreamingResponse(sse_events(reply.json()), media_type="text/event-stream")

        @app.post("/v1/messages/count_tokens")
        async def count_tokens(request: Request) -> Response:
            return JSONResponse({"input_tokens": max(1, len(await request.body()) // 4)})

        return app

    @contextmanager
    def serve(self) -> Iterator[Path]:
        """Serve on a fresh unix socket (connectable by any uid) and yield its path."""
        directory = Path(tempfile.mkdtemp(prefix="relay-"))
        directory.chmod(0o755)
        path = directory / "model.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(path))
        os.chmod(path, 0o666)
        config = uvicorn.Config(self.app, log_level="warning", log_config=None, lifespan="off",
                                timeout_graceful_shutdown=2)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 10
            while not server.started:
                if time.monotonic() > deadline or not thread.is_alive():
                    raise RuntimeError("the relay stand-in did not start")
                time.sleep(0.01)
            yield path
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()
            path.unlink(missing_ok=True)
            directory.rmdir()

"""Stateless scripted double of the Anthropic Messages API (`POST /v1/messages`).

How a request picks its turn: reply turns are numbered 0, 1, 2... and a request
with N assistant messages gets reply N, so the server keeps no conversation state
and many conversations can run at once. Error turns sit between replies and add
no assistant message; one with `times=k` fails the next k calls at its place in
the script, counted per (model, script position, fingerprint), where the
fingerprint is a hash of the conversation's first user message text. So each
distinct task sees every scripted failure, while two concurrent conversations
with an identical first message share one counter. `times=None` fails forever,
also for every later step. Past the end of the script: end_turn "Done.".

`"stream": true` answers the same reply as server-sent events (tests/doubles/anthropic_stream.py).
A reply turn with `fault` set answers an unreadable response instead: "cut" ends the stream
before message_delta, "garbled" sends a body that is not JSON (streamed: an event that is not),
"overloaded" ends a stream with the API's mid-stream `error` event (a whole reply: a 529).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException

from tests.doubles.anthropic_requests import problem_in
from tests.doubles.anthropic_stream import message_events
from tests.doubles.server import serve_app

ERROR_TYPES = {
    400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
    404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
    500: "api_error", 529: "overloaded_error",
}
# The real API looks for earlier cache entries at most this many blocks before a breakpoint.
CACHE_LOOKBACK_BLOCKS = 20


@dataclass(frozen=True)
class Turn:
    """One scripted model step: a reply (content + stop_reason) or an error (status set)."""

    content: tuple[dict[str, Any], ...] = ()
    stop_reason: str = "end_turn"
    usage: dict[str, int] | None = None
    status: int | None = None
    error_type: str | None = None
    message: str = ""
    retry_after: str | None = None
    times: int | None = 1  # error turns only; None = fail on every call from here on
    shared: bool = False  # error turns only: `times` counts the calls of every conversation together
    fault: Literal["cut", "garbled", "overloaded"] | None = None  # reply turns only: an unreadable response

    @property
    def is_error(self) -> bool:
        """True for error turns."""
        return self.status is not None

    @classmethod
    def reply(cls, content: Sequence[dict[str, Any]], stop_reason: str = "end_turn",
              usage: dict[str, int] | None = None) -> Turn:
        """A reply made of raw content blocks; tool_use blocks without an id get a fresh one."""
        return cls(content=tuple(content), stop_reason=stop_reason, usage=usage)

    @classmethod
    def text(cls, text: str, stop_reason: str = "end_turn", usage: dict[str, int] | None = None) -> Turn:
        """A reply with a single text block."""
        return cls.reply([{"type": "text", "text": text}], stop_reason, usage)

    @classmethod
    def tool_use(cls, name: str, input: dict[str, Any], text: str | None = None,
                 usage: dict[str, int] | None = None) -> Turn:
        """A tool call (stop_reason tool_use), optionally preceded by a text block like real models."""
        blocks = [{"type": "text", "text": text}] if text else []
        return cls.reply(blocks + [{"type": "tool_use", "name": name, "input": input}], "tool_use", usage)

    @classmethod
    def broken(cls, fault: Literal["cut", "garbled", "overloaded"], text: str = "This reply breaks off.") -> Turn:
        """A text reply whose response cannot be read: the stream is cut, the body garbled, or it fails midway."""
        return cls(content=({"type": "text", "text": text},), fault=fault)

    @classmethod
    def error(cls, status: int, message: str, error_type: str | None = None,
              retry_after: str | None = None, times: int | None = 1, shared: bool = False) -> Turn:
        """An error answered `times` times at this point of the script (None: always), per conversation or,
        `shared`, over all conversations together."""
        return cls(status=status, error_type=error_type or ERROR_TYPES.get(status, "api_error"),
                   message=message, retry_after=retry_after, times=times, shared=shared)


@dataclass
class _Script:
    """A scenario, pre-split so a request's slot (its assistant-message count) is a lookup."""

    replies: list[Turn] = field(default_factory=list)
    # errors[slot] = [(script position, turn)] played before reply number `slot`.
    errors: dict[int, list[tuple[int, Turn]]] = field(default_factory=dict)
    # Errors with times=None are sticky: they also fire for every later slot.
    always_from: int | None = None


def _error(status: int, message: str, error_type: str | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"type": "error", "error": {"type": error_type or ERROR_TYPES[status], "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _prompt_blocks(body: dict[str, Any]) -> list[tuple[dict[str, Any], bool]]:
    """The prompt as (block, has_cache_control) in the API's caching order: tools, system, messages."""
    blocks: list[tuple[dict[str, Any], bool]] = []

    def add(block: Any, role: str | None = None) -> None:
        block = {"type": "text", "text": block} if isinstance(block, str) else dict(block)
        marked = block.pop("cache_control", None) is not None
        # The marker is not prompt content: moving a breakpoint must not change the hashes.
        blocks.append(({"role": role, **block} if role else block, marked))

    for tool in body.get("tools") or []:
        add(tool)
    system = body.get("system")
    for block in [system] if isinstance(system, str) else system or []:
        add(block, "system")
    for message in body["messages"]:
        content = message.get("content")
        for block in [content] if isinstance(content, str) else content or []:
            add(block, message.get("role"))
    if body.get("cache_control") and blocks:
        # Top-level cache_control marks the last block (automatic caching).
        blocks[-1] = (blocks[-1][0], True)
    return blocks


def _first_user_text(messages: list[dict[str, Any]]) -> str:
    content = messages[0].get("content")
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") for b in content or [] if isinstance(b, dict))


class FakeAnthropic:
    """Scripted Messages API: the reply to a request depends only on its model and its history."""

    def __init__(self, api_key: str | None = "sk-ant-fake") -> None:
        self.api_key = api_key
        self._lock = threading.Lock()
        self._scripts: dict[str, _Script] = {}
        self._calls: dict[tuple[str, int, str], int] = {}
        self._cached_prefixes: set[str] = set()
        self._requests: list[dict[str, Any]] = []
        self._arrived: list[float] = []  # wall-clock time of each request, for latency benchmarks
        self._app = self._build_app()

    def add_scenario(self, model: str, turns: Sequence[Turn]) -> None:
        """Script the model named `model`; reply turn N answers requests with N assistant messages."""
        script = _Script()
        for position, turn in enumerate(turns):
            slot = len(script.replies)
            if not turn.is_error:
                script.replies.append(turn)
                continue
            script.errors.setdefault(slot, []).append((position, turn))
            if turn.times is None and script.always_from is None:
                script.always_from = slot
        with self._lock:
            self._scripts[model] = script

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Copies of every request body received, each with an added `headers` key."""
        with self._lock:
            return copy.deepcopy(self._requests)

    def arrivals(self) -> list[tuple[float, dict[str, Any]]]:
        """(epoch seconds it arrived, body copy) of every request received."""
        with self._lock:
            return list(zip(self._arrived, copy.deepcopy(self._requests), strict=True))

    def requests_for(self, model: str) -> list[dict[str, Any]]:
        """The recorded requests whose body names `model`."""
        return [r for r in self.requests if r.get("model") == model]

    def reset(self) -> None:
        """Forget recorded requests, error-turn counters and the simulated prompt cache."""
        with self._lock:
            self._requests.clear()
            self._arrived.clear()
            self._calls.clear()
            self._cached_prefixes.clear()

    @property
    def app(self) -> FastAPI:
        """The ASGI application."""
        return self._app

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Serve on loopback and yield the base URL to pass as the SDK's `base_url`."""
        with serve_app(self._app) as base_url:
            yield base_url

    def _authorized(self, headers: Any) -> bool:
        if "anthropic-version" not in headers:
            return False
        # SDK 2.x sends the api key as `Authorization: Bearer`; older clients use `x-api-key`.
        bearer = headers.get("authorization", "").removeprefix("Bearer ").strip()
        return self.api_key is None or self.api_key in (headers.get("x-api-key"), bearer)

    def _pick_turn(self, model: str, body: dict[str, Any]) -> Turn | None:
        """The turn for this request; None past the end of the script."""
        script = self._scripts[model]
        slot = sum(1 for m in body["messages"] if m.get("role") == "assistant")
        # Error repeats are counted per conversation so that concurrent
        # conversations with different prompts each see every scripted failure.
        fingerprint = hashlib.sha256(_first_user_text(body["messages"]).encode()).hexdigest()
        if script.always_from is not None and slot > script.always_from:
            return next(t for _, t in script.errors[script.always_from] if t.times is None)
        with self._lock:
            for position, turn in script.errors.get(slot, []):
                key = (model, position, "" if turn.shared else fingerprint)
                if turn.times is None or self._calls.get(key, 0) < turn.times:
                    self._calls[key] = self._calls.get(key, 0) + 1
                    return turn
        return script.replies[slot] if slot < len(script.replies) else None

    def _usage(self, model: str, body: dict[str, Any], content: list[dict[str, Any]]) -> dict[str, int]:
        """Realistic token usage, including a simulated prompt cache keyed by prefix hashes."""
        blocks = _prompt_blocks(body)
        hasher = hashlib.sha256(model.encode())
        chars, prefix_hashes, prefix_chars = 0, [], []
        for block, _ in blocks:
            text = _canonical(block)
            hasher.update(text.encode())
            chars += len(text)
            prefix_hashes.append(hasher.hexdigest())
            prefix_chars.append(chars)
        breakpoints = [i for i, (_, marked) in enumerate(blocks) if marked]
        cacheable = math.ceil(prefix_chars[breakpoints[-1]] / 4) if breakpoints else 0
        read = 0
        with self._lock:
            # Longest earlier-cached prefix ending within the lookback window of a breakpoint.
            candidates = {i for b in breakpoints for i in range(max(0, b - CACHE_LOOKBACK_BLOCKS), b + 1)}
            hits = [i for i in candidates if prefix_hashes[i] in self._cached_prefixes]
            if hits:
                read = math.ceil(prefix_chars[max(hits)] / 4)
            self._cached_prefixes.update(prefix_hashes[b] for b in breakpoints)
        return {
            "input_tokens": math.ceil(chars / 4) - cacheable,
            "output_tokens": math.ceil(len(_canonical(content)) / 4),
            "cache_creation_input_tokens": cacheable - read,
            "cache_read_input_tokens": read,
        }

    def _respond(self, body: dict[str, Any]) -> Response:
        model = body["model"]
        if model not in self._scripts:
            return _error(404, f"model: {model}")
        turn = self._pick_turn(model, body)
        if turn is None:
            turn = Turn.text("Done.")
        if turn.is_error:
            headers = {"retry-after": turn.retry_after} if turn.retry_after is not None else None
            return _error(turn.status or 500, turn.message, turn.error_type, headers)
        content = copy.deepcopy(list(turn.content))
        for block in content:
            if block.get("type") == "tool_use":
                block.setdefault("id", f"toolu_{secrets.token_hex(12)}")
        usage = {**self._usage(model, body, content), **(turn.usage or {})}
        message = {
            "id": f"msg_{secrets.token_hex(12)}", "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": turn.stop_reason, "stop_sequence": None, "usage": usage,
        }
        if body.get("stream"):
            return StreamingResponse(_stream(message, turn.fault), media_type="text/event-stream; charset=utf-8")
        if turn.fault == "garbled":
            return Response(b'{"id": "msg_', media_type="application/json")
        if turn.fault == "overloaded":
            return _error(529, "Overloaded")
        return JSONResponse(message)

    def _build_app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def request_id(request: Request, call_next: Any) -> Any:
            response = await call_next(request)
            response.headers["request-id"] = f"req_{secrets.token_hex(12)}"
            return response

        @app.exception_handler(HTTPException)
        async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
            status = exc.status_code if exc.status_code in ERROR_TYPES else 404
            return _error(status, "Not Found" if status == 404 else str(exc.detail))

        @app.post("/v1/messages/count_tokens")
        async def count_tokens(request: Request) -> JSONResponse:
            try:
                body = json.loads(await request.body())
            except ValueError:
                body = None
            if not self._authorized(request.headers):
                return _error(401, "invalid x-api-key")
            problem = problem_in({"max_tokens": 1, **body} if isinstance(body, dict) else body)
            if problem:
                return _error(400, problem)
            chars = sum(len(_canonical(block)) for block, _ in _prompt_blocks(body))
            return JSONResponse({"input_tokens": math.ceil(chars / 4)})

        @app.post("/v1/messages")
        async def messages(request: Request) -> Response:
            raw = await request.body()
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            record = copy.deepcopy(body) if isinstance(body, dict) else {"raw": raw.decode("utf-8", "replace")}
            with self._lock:
                self._requests.append({**record, "headers": dict(request.headers)})
                self._arrived.append(time.time())
            if not self._authorized(request.headers):
                return _error(401, "invalid x-api-key")
            problem = problem_in(body)
            if problem:
                return _error(400, problem)
            return self._respond(body)

        return app


async def _stream(message: dict[str, Any], fault: str | None) -> Any:
    """The reply's events; a faulty turn breaks off or garbles its last event."""
    events = list(message_events(message, cut=fault == "cut"))
    if fault == "garbled":
        events[-2:] = [b'event: message_delta\ndata: {"type":"message_del\n\n']
    if fault == "overloaded":
        error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        events[2:] = [f"event: error\ndata: {json.dumps(error)}\n\n".encode()]
    for event in events:
        yield event

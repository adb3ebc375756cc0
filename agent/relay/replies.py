"""Reading a model's reply as it passes through the relay: its usage, its tool calls and its content.

A reply whose usage cannot be read (not JSON, an event that is not, a stream that ends before message_delta)
leaves `usage` None: the relay then charges the call's worst case and fails it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from agent.pricing import Usage

EVENT_LIMIT = 4 << 20  # one server-sent event; a content block's delta is far smaller


def usage_of(raw: Any) -> Usage | None:
    """The API's usage object as Usage; None when it is missing or malformed."""
    if not isinstance(raw, dict):
        return None
    counts = [raw.get(k) or 0 for k in ("input_tokens", "output_tokens", "cache_read_input_tokens",
                                        "cache_creation_input_tokens")]
    if "output_tokens" not in raw or not all(isinstance(n, int) and n >= 0 for n in counts):
        return None
    return Usage(input=counts[0], output=counts[1], cache_read=counts[2], cache_write=counts[3])


class Reply:
    """What the relay learns of one reply: content blocks, tool names, stop reason and usage."""

    def __init__(self) -> None:
        self.content: list[dict[str, Any]] = []
        self.stop_reason: str | None = None
        self.usage: Usage | None = None
        self.broken = False  # something in it could not be read
        self.failed = False  # the provider ended the stream with an error event (passed on to the client)

    @property
    def tools(self) -> list[str]:
        return [b.get("name", "") for b in self.content if b.get("type") in ("tool_use", "server_tool_use")]

    def read_message(self, body: bytes) -> None:
        """A whole (non-streamed) message."""
        try:
            message = json.loads(body)
        except ValueError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("content"), list):
            self.broken = True
            return
        self.content = [b for b in message["content"] if isinstance(b, dict)]
        self.stop_reason = message.get("stop_reason")
        self.usage = usage_of(message.get("usage"))
        self.broken = self.usage is None


class StreamReader(Reply):
    """Follows a server-sent event stream; `feed` returns the complete events seen so far, each checked."""

    def __init__(self) -> None:
        super().__init__()
        self._buffer = b""
        self._start: Usage | None = None
        self._json: dict[int, str] = {}
        self.ended = False  # message_stop seen

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Complete, readable events to pass on, each read as it is taken (so `ended` is set before the last one
        is passed on); stops at the first one that cannot be read (`broken`)."""
        # Line ends may be CRLF, and a chunk may end between the CR and the LF.
        self._buffer = (self._buffer + data).replace(b"\r\n", b"\n")
        while not self.broken and b"\n\n" in self._buffer:
            event, self._buffer = self._buffer.split(b"\n\n", 1)
            self._read(event)
            if not self.broken or self.failed:
                yield event + b"\n\n"
        if len(self._buffer) > EVENT_LIMIT:
            self.broken = True

    def finish(self) -> None:
        """The stream ended: without a final usage (or with bytes left over) the reply is unreadable."""
        if self._buffer.strip() or self.usage is None or not self.ended:
            self.broken = True

    def _read(self, event: bytes) -> None:
        data = b"\n".join(line[5:].strip() for line in event.split(b"\n") if line.startswith(b"data:"))
        if not data:
            return  # a comment or keep-alive
        try:
            payload = json.loads(data)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            self.broken = True
            return
        self._event(payload)

    def _event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "message_start":
            self._start = usage_of((event.get("message") or {}).get("usage"))
        elif kind == "content_block_start" and isinstance(event.get("content_block"), dict):
            self.content.append(dict(event["content_block"]))
        elif kind == "content_block_delta" and isinstance(event.get("delta"), dict) and self.content:
            self._delta(event["delta"], event.get("index", len(self.content) - 1))
        elif kind == "content_block_stop" and event.get("index") in self._json:
            self._input(event["index"])
        elif kind == "message_delta":
            self._final(event)
        elif kind == "message_stop":
            self.ended = True
        elif kind == "error":
            self.broken = self.failed = True

    def _delta(self, delta: dict[str, Any], index: Any) -> None:
        if not isinstance(index, int) or not 0 <= index < len(self.content):
            return
        block = self.content[index]
        for kind, field in (("text_delta", "text"), ("thinking_delta", "thinking"), ("signature_delta", "signature")):
            if delta.get("type") == kind:
                block[field] = block.get(field, "") + str(delta.get(field, ""))
        if delta.get("type") == "input_json_delta":
            self._json[index] = self._json.get(index, "") + str(delta.get("partial_json", ""))

    def _input(self, index: int) -> None:
        try:
            self.content[index]["input"] = json.loads(self._json.pop(index) or "{}")
        except ValueError:
            self.content[index]["input"] = {}

    def _final(self, event: dict[str, Any]) -> None:
        """message_delta: the stop reason and the cumulative usage (input counts may be repeated or left out)."""
        raw = event.get("usage")
        if self._start is None or not isinstance(raw, dict):
            self.broken = True
            return
        start = self._start
        merged = {"input_tokens": start.input, "cache_read_input_tokens": start.cache_read,
                  "cache_creation_input_tokens": start.cache_write,
                  **{k: v for k, v in raw.items() if v is not None}}
        self.usage = usage_of(merged)
        self.broken = self.usage is None
        delta = event.get("delta")
        self.stop_reason = delta.get("stop_reason") if isinstance(delta, dict) else None

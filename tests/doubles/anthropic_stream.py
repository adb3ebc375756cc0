"""The Messages API's server-sent events for one reply, in the order and shapes the real API sends them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

# Small chunks, so a client must really assemble text and tool input from several deltas.
CHUNK = 16


def sse(event: str, data: dict[str, Any]) -> bytes:
    """One server-sent event, as the API frames it (`event:` then `data:` then a blank line)."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _chunks(text: str) -> list[str]:
    return [text[i:i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]


def _block_events(index: int, block: dict[str, Any]) -> Iterator[bytes]:
    """content_block_start, its deltas and content_block_stop for one finished content block."""
    kind = block.get("type")
    if kind == "text":
        start: dict[str, Any] = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": c} for c in _chunks(block.get("text", ""))]
    elif kind == "tool_use":
        start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
        raw = json.dumps(block.get("input") or {}, separators=(",", ":"))
        deltas = [{"type": "input_json_delta", "partial_json": c} for c in _chunks(raw)]
    elif kind == "thinking":
        start = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": c} for c in _chunks(block.get("thinking", ""))]
        deltas.append({"type": "signature_delta", "signature": block.get("signature", "")})
    else:  # redacted_thinking and other opaque blocks arrive whole in their start event
        start, deltas = block, []
    yield sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": start})
    for delta in deltas:
        yield sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
    yield sse("content_block_stop", {"type": "content_block_stop", "index": index})


def message_events(message: dict[str, Any], *, cut: bool = False) -> Iterator[bytes]:
    """The whole stream for a finished `message`; `cut` ends it after the content, before message_delta."""
    usage = dict(message["usage"])
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None,
             "usage": {**usage, "output_tokens": 1}}
    yield sse("message_start", {"type": "message_start", "message": start})
    yield sse("ping", {"type": "ping"})
    for index, block in enumerate(message["content"]):
        yield from _block_events(index, block)
    if cut:
        return
    yield sse("message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": message["stop_reason"], "stop_sequence": message.get("stop_sequence")},
        # Cumulative, as the API sends it today: the input counts again beside the final output count.
        "usage": usage,
    })
    yield sse("message_stop", {"type": "message_stop"})

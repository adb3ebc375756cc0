"""How the relay reads a streamed reply's usage, tool calls and content, whatever the chunking."""

from __future__ import annotations

import json
from typing import Any

from agent.pricing import Usage
from agent.relay.replies import StreamReader


def event(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\r\ndata: {json.dumps({'type': kind, **data})}\r\n\r\n".encode()


START = event("message_start", {"message": {"id": "m", "content": [], "usage": {
    "input_tokens": 120, "output_tokens": 1, "cache_read_input_tokens": 4000, "cache_creation_input_tokens": 30}}})
BLOCKS = (event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
          + event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "Run it."}})
          + event("content_block_stop", {"index": 0})
          + event("content_block_start", {"index": 1, "content_block": {"type": "tool_use", "id": "t", "name": "Bash",
                                                                        "input": {}}})
          + event("content_block_delta", {"index": 1, "delta": {"type": "input_json_delta",
                                                                 "partial_json": '{"command": "l'}})
          + event("content_block_delta", {"index": 1, "delta": {"type": "input_json_delta", "partial_json": 's"}'}})
          + event("content_block_stop", {"index": 1}))
# The older form of message_delta: only the output count (the input counts come from message_start).
END = (event("message_delta", {"delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 42}})
       + event("message_stop", {}))


def test_a_stream_fed_byte_by_byte_is_read_whole() -> None:
    reader, passed = StreamReader(), b""
    whole = START + b": keep-alive comment\r\n\r\n" + BLOCKS + END
    for i in range(len(whole)):
        passed += b"".join(reader.feed(whole[i:i + 1]))
    reader.finish()
    assert not reader.broken and reader.usage == Usage(input=120, output=42, cache_read=4000, cache_write=30)
    assert reader.tools == ["Bash"] and reader.stop_reason == "tool_use"
    assert reader.content == [{"type": "text", "text": "Run it."},
                              {"type": "tool_use", "id": "t", "name": "Bash", "input": {"command": "ls"}}]
    assert passed.count(b"\n\n") == 11  # every event passed on, the comment too


def test_a_stream_without_its_final_usage_is_unreadable() -> None:
    reader = StreamReader()
    list(reader.feed(START + BLOCKS))
    reader.finish()
    assert reader.broken and reader.usage is None


def test_an_event_that_is_not_json_stops_what_is_passed_on() -> None:
    reader = StreamReader()
    passed = list(reader.feed(START + b"event: content_block_start\ndata: {\"type\": \n\n" + BLOCKS))
    assert reader.broken and passed == [START.replace(b"\r\n", b"\n")]

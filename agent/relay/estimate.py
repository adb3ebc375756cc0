"""An upper bound of a request's input cost, per conversation stream, from its size and the stream's last usage."""

from __future__ import annotations

import copy
import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

from agent.attachments import estimated_tokens
from agent.pricing import MTOK, ModelPrice, PriceBand, Usage

# Conservative: real text and code run 3-4 characters per token.
CHARS_PER_TOKEN = 2
# The API adds a hidden prompt for the tools a request defines (bash, text editor, Claude Code's set).
TOOL_PROMPT_TOKENS = 1_500
# The prompt cache lives 5 minutes from its last use; trust it for less.
CACHE_TRUST_SECONDS = 240


def size(value: Any) -> int:
    """Characters the budget counts: the JSON text, with an image or PDF at its estimated tokens instead of its
    base64 length (which would count a 500 KB image as ~340,000 tokens)."""
    if isinstance(value, list):
        return 2 + sum(size(v) + 1 for v in value)
    if isinstance(value, dict):
        tokens = estimated_tokens(value)
        if tokens is not None:
            return tokens * CHARS_PER_TOKEN
        if isinstance(value.get("content"), list):
            return size({k: v for k, v in value.items() if k != "content"}) + size(value["content"])
    return len(json.dumps(value, ensure_ascii=False))


def unmarked(value: Any) -> Any:
    """A copy without `cache_control` (where a client puts its cache breakpoints is not conversation)."""
    if isinstance(value, list):
        return [unmarked(v) for v in value]
    if isinstance(value, dict):
        return {k: unmarked(v) for k, v in value.items() if k != "cache_control"}
    return copy.deepcopy(value)


def stream_key(body: dict[str, Any]) -> str:
    """Which conversation a request continues: its model, system prompt and tools (sub-agents differ in these),
    wherever its cache breakpoints sit."""
    digest = hashlib.sha256(json.dumps(unmarked([body.get("system"), body.get("tools")]), sort_keys=True,
                                       default=str).encode()).hexdigest()[:16]
    return f"{body.get('model')}:{digest}"


def request_size(body: dict[str, Any]) -> int:
    """The prompt's size in characters: system, tools and messages."""
    return size(body.get("system") or []) + size(body.get("tools") or []) + size(body.get("messages") or [])


@dataclass
class Stream:
    """What one conversation's newest answered request was: its size, its usage, and when it came back."""

    size: int
    usage: Usage
    at: float


def input_bound(price: ModelPrice, stream: Stream | None, chars: int, now: float) -> tuple[float, PriceBand]:
    """An upper bound of the request's input cost, and the price band its prompt falls in.

    A stream's first request (or one that shrank: old output elided, so the cache cannot be trusted) counts its
    whole size as cache writes. Later ones count the stream's last prompt and output as cached (if the cache is
    fresh) and only the characters added since as new.
    """
    if stream is None or chars < stream.size:
        tokens = math.ceil(chars / CHARS_PER_TOKEN) + TOOL_PROMPT_TOKENS
        band = price.band(tokens)
        return tokens * band.cache_write / MTOK, band
    last = stream.usage
    cached = last.cache_read + last.cache_write
    fresh = last.input + last.output + math.ceil((chars - stream.size) / CHARS_PER_TOKEN)
    band = price.band(cached + fresh)
    if now - stream.at < CACHE_TRUST_SECONDS:
        return (cached * band.cache_read + fresh * band.cache_write) / MTOK, band
    return (cached + fresh) * band.cache_write / MTOK, band

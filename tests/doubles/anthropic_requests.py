"""What the Messages API refuses in a request, in its own words: the fake's validation."""

from __future__ import annotations

import base64
from typing import Any


def problem_in(body: Any) -> str | None:
    """Return an API-style error message for malformed requests, like the real endpoint."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    for name in ("model", "max_tokens", "messages"):
        if name not in body:
            return f"{name}: Field required"
    if not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1:
        return "max_tokens: Input should be a valid positive integer"
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    if not isinstance(body.get("stream", False), bool):
        return "stream: Input should be a valid boolean"
    problem = _thinking_problem(body.get("thinking"), body["max_tokens"])
    if problem:
        return problem
    turns = _turns(messages)
    if isinstance(turns, str):
        return turns
    pending: set[str] = set()
    for i, _, blocks in turns:
        results = {b.get("tool_use_id") for b in blocks if isinstance(b, dict) and b.get("type") == "tool_result"}
        if results - pending:
            return (f"messages.{i}: unexpected `tool_use_id` found in `tool_result` blocks: "
                    f"{', '.join(sorted(map(str, results - pending)))}. Each `tool_result` block must have "
                    "a corresponding `tool_use` block in the previous message.")
        if pending - results:
            return (f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately "
                    f"after: {', '.join(sorted(map(str, pending - results)))}. Each `tool_use` block must have a "
                    "corresponding `tool_result` block in the next message.")
        pending = {b.get("id") for b in blocks if isinstance(b, dict) and b.get("type") == "tool_use"}
    for i, msg in enumerate(messages):
        for j, block in enumerate(msg["content"] if isinstance(msg["content"], list) else []):
            problem = _media_problem(block) if isinstance(block, dict) else None
            if problem:
                return f"messages.{i}.content.{j}.{problem}"
    return None


def _turns(messages: list[Any]) -> list[tuple[int, str, list[Any]]] | str:
    """The conversation's turns as the API reads them: system-role messages set aside, consecutive messages of one
    role combined into one turn (index of its first message, role, blocks); or the API's error text."""
    turns: list[tuple[int, str, list[Any]]] = []
    for i, msg in enumerate(messages):
        role = msg.get("role") if isinstance(msg, dict) else None
        if role not in ("user", "assistant", "system") or "content" not in msg:
            return f"messages.{i}.role: Input should be 'user', 'assistant' or 'system'"
        content = msg["content"]
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
        if role == "system":
            continue
        if turns and turns[-1][1] == role:
            turns[-1][2].extend(blocks)
        else:
            turns.append((i, role, list(blocks)))
    if not turns or turns[0][1] != "user":
        return "messages.0.role: the first message must use the \"user\" role"
    return turns


def _thinking_problem(thinking: Any, max_tokens: int) -> str | None:
    """What the real API says about an extended-thinking setting it refuses."""
    if thinking is None or (isinstance(thinking, dict) and thinking.get("type") in ("disabled", "adaptive")):
        return None
    if not isinstance(thinking, dict) or thinking.get("type") != "enabled":
        return "thinking: Input tag does not match any of the expected tags: 'enabled', 'disabled', 'adaptive'"
    budget = thinking.get("budget_tokens")
    if not isinstance(budget, int) or budget < 1024:
        return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
    if budget >= max_tokens:
        return "`max_tokens` must be greater than `thinking.budget_tokens`"
    return None


_IMAGE_MEDIA = {"image/jpeg", "image/png", "image/gif", "image/webp"}


def _media_problem(block: dict[str, Any]) -> str | None:
    """What the real API would refuse in an image or document block, as its error text."""
    if block.get("type") not in ("image", "document"):
        return None
    source = block.get("source") or {}
    if source.get("type") == "text" and block["type"] == "document":
        ok = source.get("media_type") == "text/plain" and isinstance(source.get("data"), str)
        return None if ok else "source: text documents need media_type text/plain and string data"
    allowed = _IMAGE_MEDIA if block["type"] == "image" else {"application/pdf"}
    if source.get("type") != "base64" or source.get("media_type") not in allowed:
        return f"source.media_type: Input should be {' or '.join(sorted(allowed))}"
    try:
        base64.b64decode(source.get("data", ""), validate=True)
    except (ValueError, TypeError):
        return "source.data: invalid base64 data"
    return None

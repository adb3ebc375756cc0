"""An attempt's conversation for training: Anthropic format as the model saw it, or OpenAI chat format."""

from __future__ import annotations

import json
from typing import Any, Literal, cast

from shared.evals.models import AttemptRecord
from shared.observability.redaction import redact_value
from shared.tasks.models import Task

RolloutFormat = Literal["anthropic", "openai"]


def system_text(system: Any) -> str:
    """The system prompt as text, from a string or a list of content blocks."""
    if isinstance(system, list):
        return "\n\n".join(b.get("text", "") for b in system if isinstance(b, dict) and b.get("type") == "text")
    return system if isinstance(system, str) else ""


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [b.get("text", "") if b.get("type") == "text" else f"[{b.get('type', 'block')}]"
                 for b in content if isinstance(b, dict)]
        return "\n".join(p for p in parts if p)
    return ""


def _openai_user(content: Any) -> list[dict[str, Any]]:
    if not isinstance(content, list):
        return [{"role": "user", "content": _text(content)}]
    out: list[dict[str, Any]] = [{"role": "tool", "tool_call_id": b.get("tool_use_id", ""),
                                  "content": _text(b.get("content", ""))}
                                 for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
    rest = [b for b in content if isinstance(b, dict) and b.get("type") != "tool_result"]
    if rest:
        out.append({"role": "user", "content": _text(rest)})
    return out


def _openai_assistant(content: Any) -> dict[str, Any]:
    if not isinstance(content, list):
        return {"role": "assistant", "content": _text(content)}
    texts = [b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text"]
    calls = [{"id": b.get("id", ""), "type": "function",
              "function": {"name": b.get("name", ""), "arguments": json.dumps(b.get("input", {}))}}
             for b in content if isinstance(b, dict) and b.get("type") == "tool_use"]
    message: dict[str, Any] = {"role": "assistant", "content": "\n".join(texts) if texts else None}
    if calls:
        message["tool_calls"] = calls
    return message


def to_openai(system: Any, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Anthropic messages as OpenAI chat messages: system first, tool calls and one `tool` message per result."""
    out: list[dict[str, Any]] = [{"role": "system", "content": system_text(system)}] if system_text(system) else []
    for m in messages:
        if m.get("role") == "assistant":
            out.append(_openai_assistant(m.get("content")))
        else:
            out.extend(_openai_user(m.get("content")))
    return out


def rollout_line(record: AttemptRecord, task: Task | None, trajectory: dict[str, Any] | None, *,
                 engine: str, fmt: RolloutFormat) -> dict[str, Any]:
    """One NDJSON line of GET /v1/evals/{id}/rollouts, redacted."""
    trajectory = trajectory or {}
    system, messages = trajectory.get("system") or "", trajectory.get("messages") or []
    line: dict[str, Any] = {
        "case_id": record.case_id, "attempt": record.attempt, "task_id": record.task_id, "engine": engine,
        "model_id": (task.model_id if task else None) or trajectory.get("model_id"),
        "prompt_version": (task.prompt_version if task else None) or trajectory.get("prompt_version"),
        "reward": record.reward, "grade": record.grade, "classification": record.classification,
        "cost_usd": record.cost_usd, "turns": record.turns}
    if fmt == "openai":
        line["messages"] = to_openai(system, messages)
    else:
        line.update(system=system, messages=messages)
    return cast(dict[str, Any], redact_value(line))

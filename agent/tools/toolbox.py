"""Dispatching the model's tool calls, and the one exit every tool output takes: redact, then cap."""

from __future__ import annotations

from typing import Any

from agent.tools.protocol import Tool, ToolResult
from shared.observability.redaction import redact


def cap_text(text: str, limit: int) -> str:
    """The text, or its head and tail around a marker saying how much was cut."""
    if len(text) <= limit:
        return text
    head, tail = text[: limit * 2 // 3], text[-(limit // 3):]
    return f"{head}\n[... {len(text) - len(head) - len(tail)} characters truncated ...]\n{tail}"


class Toolbox:
    """The run's tools by name; every result leaves redacted and capped."""

    def __init__(self, tools: list[Tool], *, output_limit: int):
        self._tools = {tool.definition["name"]: tool for tool in tools}
        self._output_limit = output_limit

    def definitions(self) -> list[dict[str, Any]]:
        return [dict(tool.definition) for tool in self._tools.values()]

    async def call(self, name: str, tool_input: dict[str, Any]) -> ToolResult:
        """Run one tool call of the model."""
        tool = self._tools.get(name)
        if tool is None:
            return ToolResult(f"Error: there is no tool named {name!r}.", is_error=True)
        if not isinstance(tool_input, dict):
            return ToolResult("Error: tool input must be an object.", is_error=True)
        try:
            result = await tool.run(tool_input)
        except (OSError, ValueError) as exc:  # e.g. a NUL byte in a command: the model's problem to fix
            result = ToolResult(f"Error: {type(exc).__name__}: {exc}", is_error=True)
        # Redact before capping, so a cut can never leave half a secret unrecognised.
        text = cap_text(redact(result.text), self._output_limit)
        return ToolResult(text, result.is_error, redact(result.refusal) if result.refusal else None)

"""What a client tool looks like to the model loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class ToolResult:
    """The text sent back in a tool_result block; `refusal` is set when the policy said no."""

    text: str
    is_error: bool = False
    refusal: str | None = None


class Tool(Protocol):
    """One client tool: its API definition and how to run a call of it."""

    @property
    def definition(self) -> dict[str, Any]: ...

    async def run(self, tool_input: dict[str, Any]) -> ToolResult: ...


class Tools(Protocol):
    """The tools of a run, as the model loop uses them."""

    def definitions(self) -> list[dict[str, Any]]: ...

    async def call(self, name: str, tool_input: dict[str, Any]) -> ToolResult:
        """Run one tool call; the result is already redacted and capped."""

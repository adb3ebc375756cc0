"""The conversation sent to the model: prompt-cache breakpoints and eliding old tool output."""

from __future__ import annotations

import copy
from typing import Any

EPHEMERAL = {"type": "ephemeral"}
ELIDED = "[older tool output elided to keep the conversation within the model's context window]"


def cached_system(system_prompt: str, workdir: str) -> list[dict[str, Any]]:
    """The system blocks: the stable prompt (a cache breakpoint), then where the tools run."""
    return [
        {"type": "text", "text": system_prompt, "cache_control": EPHEMERAL},
        {"type": "text", "text": f"Your working directory is {workdir}, the root of the repository's clone. "
                                 "Tools run there; paths may be relative to it. Do not push: the platform "
                                 "commits, pushes and opens the pull request when you finish."},
    ]


def cached_tools(definitions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool definitions with a cache breakpoint on the last one."""
    tools = [dict(t) for t in definitions]
    if tools:
        tools[-1]["cache_control"] = EPHEMERAL
    return tools


class Conversation:
    """The messages of one run, alternating user and assistant, starting with the task prompt."""

    def __init__(self, user_prompt: str, attachments: list[dict[str, Any]] | None = None):
        # Attachments follow the prompt that refers to them, in the first message.
        first = [{"type": "text", "text": user_prompt}, *(attachments or [])]
        self.messages: list[dict[str, Any]] = [{"role": "user", "content": first}]

    def add_assistant(self, content: list[dict[str, Any]]) -> None:
        """Append the model's reply."""
        self.messages.append({"role": "assistant", "content": content})

    def add_user(self, content: list[dict[str, Any]]) -> None:
        """Append tool results or a note to the model."""
        self.messages.append({"role": "user", "content": content})

    def add_note(self, text: str) -> None:
        """Text for the model in the next request: appended to the pending user message, or as a new one."""
        if self.messages[-1]["role"] == "user":
            self.messages[-1]["content"].append({"type": "text", "text": text})
        else:
            self.add_user([{"type": "text", "text": text}])

    def request_messages(self) -> list[dict[str, Any]]:
        """A copy of the messages with a rolling cache breakpoint on the last user block.

        Each request marks its newest block; the next request finds that prefix in the cache
        and only the turn added since is written.
        """
        messages = copy.deepcopy(self.messages)
        messages[-1]["content"][-1]["cache_control"] = EPHEMERAL
        return messages

    def elide_old_tool_results(self, keep_last: int = 3) -> int:
        """Replace the content of all but the newest `keep_last` tool-result messages; return how many."""
        holders = [m for m in self.messages
                   if m["role"] == "user" and any(b.get("type") == "tool_result" for b in m["content"])]
        elided = 0
        for message in holders[:-keep_last] if keep_last else holders:
            for block in message["content"]:
                if block.get("type") == "tool_result" and block.get("content") != ELIDED:
                    block["content"] = ELIDED
                    elided += 1
        return elided

"""MCP servers a repository's Claude Code tasks may use: a command run inside the task's sandbox, or a remote
server reached through the egress allowlist. No credentials are held for them (none reach the sandbox)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.observability.redaction import redact

McpName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
MAX_MCP_SERVERS = 20


class McpServer(BaseModel):
    """One server: `stdio` (command + args, run in the sandbox as the sandbox's user) or `http`/`sse` (url)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["stdio", "http", "sse"] = "stdio"
    command: Annotated[str, Field(min_length=1, max_length=1_000)] | None = None
    args: Annotated[list[Annotated[str, Field(max_length=1_000)]], Field(max_length=50)] = []
    env: Annotated[dict[str, Annotated[str, Field(max_length=1_000)]], Field(max_length=50)] = {}
    url: Annotated[str, Field(pattern=r"^https?://[^\s]+$", max_length=2_000)] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> McpServer:
        if self.type == "stdio" and (self.command is None or self.url is not None):
            raise ValueError("a stdio MCP server needs a command and no url")
        if self.type != "stdio" and (self.url is None or self.command is not None or self.args or self.env):
            raise ValueError(f"an {self.type} MCP server needs a url and no command, args or env")
        return self

    @model_validator(mode="after")
    def _no_credentials(self) -> McpServer:
        # Everything here is copied into the sandbox: a token would be readable by the model's commands.
        given = [("command", self.command), ("url", self.url), *(("args", a) for a in self.args),
                 *((f"env.{k}", v) for k, v in self.env.items())]
        for where, text in given:
            if text and redact(text) != text:
                raise ValueError(f"{where} looks like a credential: MCP servers get none in this version "
                                 "(whatever they are given reaches the sandbox)")
        return self


McpServers = Annotated[dict[McpName, McpServer], Field(max_length=MAX_MCP_SERVERS)]

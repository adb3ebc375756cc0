"""How the Claude Code CLI is configured inside the sandbox: its environment, the tools it may not use, and the
managed settings (highest precedence) that pin what a repository's own settings must not change."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from claude_agent_sdk import ClaudeAgentOptions
from claude_agent_sdk._internal.transport.subprocess_cli import SubprocessCLITransport

from agent.relay.client import RELAY_API_KEY
from shared.repos.mcp import McpServer

# The relay is served inside the sandbox on this loopback port (the egress proxy has 3128).
MODEL_PORT = 3129
MANAGED_SETTINGS = "claude-code/managed-settings.json"  # under /etc: Claude Code's managed policy on Linux

# Tools whose work leaves the session or comes back after it ends, listed from the CLI's own init message:
# scheduled and wake-up prompts, monitors, background workflows and agents' messages, other worktrees (work
# outside the clone is never delivered). Foreground sub-agents (Task) stay.
DISALLOWED_TOOLS = ("CronCreate", "CronDelete", "CronList", "ScheduleWakeup", "Monitor", "Workflow", "SendMessage",
                    "ListAgents", "TaskStop", "EnterWorktree", "ExitWorktree", "RemoteTrigger")
# A review reads and comments; it writes nothing.
WRITE_TOOLS = ("Write", "Edit", "MultiEdit", "NotebookEdit")


def disallowed_tools(task_type: str) -> list[str]:
    """Every tool the CLI must not offer for this task."""
    return [*DISALLOWED_TOOLS, *(WRITE_TOOLS if task_type == "pr_review" else ())]


def cli_env(*, bash_timeout_seconds: float, retries: int) -> dict[str, str]:
    """The CLI's environment on top of the sandbox's allowlist: the relay, and nothing of the runtime's."""
    timeout_ms = str(int(bash_timeout_seconds * 1000))
    return {
        "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{MODEL_PORT}",
        "ANTHROPIC_API_KEY": RELAY_API_KEY,  # a placeholder: the relay drops it and adds the real credential
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_DISABLE_BACKGROUND_TASKS": "1",
        "CLAUDE_CODE_USE_BEDROCK": "0",
        "CLAUDE_CODE_USE_VERTEX": "0",
        # One command's wall time, as the native bash tool's; the sandbox's limits hold for the whole session.
        "BASH_DEFAULT_TIMEOUT_MS": timeout_ms,
        "BASH_MAX_TIMEOUT_MS": timeout_ms,
        "CLAUDE_CODE_MAX_RETRIES": str(retries),
        "CLAUDE_CODE_ENTRYPOINT": "sdk-py",
        "CLAUDE_CODE_SDK_READS_SESSION_STATE": "1",
    }


def managed_settings(env: dict[str, str], task_type: str) -> str:
    """Managed settings: a repository's settings cannot move the relay, set a key or allow a locked tool."""
    settings = {"env": env, "apiKeyHelper": f"echo {RELAY_API_KEY}",
                "permissions": {"deny": disallowed_tools(task_type)}}
    return json.dumps(settings, indent=2)


def mcp_config(servers: dict[str, McpServer]) -> dict[str, Any]:
    """The repo's MCP servers as the CLI reads them: stdio ones run inside the sandbox, remote ones via egress."""
    config: dict[str, Any] = {}
    for name, server in servers.items():
        if server.type == "stdio":
            config[name] = {"type": "stdio", "command": server.command, "args": list(server.args),
                            "env": dict(server.env)}
        else:
            config[name] = {"type": server.type, "url": server.url}
    return config


def cli_argv(cli: str, options: ClaudeAgentOptions) -> list[str]:
    """The CLI's command line for these options, as the SDK builds it."""
    return SubprocessCLITransport(prompt="", options=dataclasses.replace(options, cli_path=cli))._build_command()

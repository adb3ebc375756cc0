"""The bash client tool (`bash_20250124`).

Each command runs in a fresh `bash -c` inside the task's sandbox with the clone as its working directory, so no
shell state (cwd, variables, background jobs) carries from one call to the next; `restart`
is therefore a no-op that says so. Every command gets a deadline, and its whole process
group is killed when it ends or times out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.sandbox.protocol import Sandbox
from agent.tools.policy import CommandPolicy
from agent.tools.protocol import ToolResult


class BashTool:
    """Runs the model's shell commands inside the workspace, after the policy allows them."""

    def __init__(self, workspace: Path, sandbox: Sandbox, policy: CommandPolicy, *,
                 timeout: float, output_limit: int):
        self._workspace = workspace
        self._sandbox = sandbox
        self._policy = policy
        self._timeout = timeout
        self._output_limit = output_limit

    @property
    def definition(self) -> dict[str, Any]:
        return {"type": "bash_20250124", "name": "bash"}

    async def run(self, tool_input: dict[str, Any]) -> ToolResult:
        """Run one call of the tool: a command, or a restart."""
        if tool_input.get("restart"):
            return ToolResult("The bash tool has been restarted. (Every command already runs in a fresh shell "
                              f"in {self._workspace}.)")
        command = tool_input.get("command")
        if not isinstance(command, str) or not command.strip():
            return ToolResult("Error: the bash tool needs a `command` string.", is_error=True)
        refusal = self._policy.check(command)
        if refusal:
            return ToolResult(f"Command refused by the agent's policy: {refusal.reason}.", is_error=True,
                              refusal=refusal.reason)
        result = await self._sandbox.run(command, timeout=self._timeout, output_limit=self._output_limit)
        output = result.output.rstrip("\n")
        if result.output_exceeded:
            return ToolResult("Error: the command printed more output than the sandbox allows and was stopped.\n"
                              f"Output kept:\n{output}", is_error=True)
        if result.stopped:
            return ToolResult(f"Error: {result.stopped}.\nOutput kept:\n{output}", is_error=True)
        if result.timed_out:
            return ToolResult(f"Error: the command timed out after {self._timeout:g} s and was stopped.\n"
                              f"Output before the timeout:\n{output}", is_error=True)
        if result.exit_code != 0:
            return ToolResult(f"{output}\n[exit code: {result.exit_code}]".lstrip("\n"))
        return ToolResult(output or "(no output)")

"""Sandboxes without namespaces: `two-user` (the ECS image) and `off` (the operator's explicit opt-out).

`two-user`: the runtime runs as one user and every command as a second, unprivileged one that owns
the workspace and nothing else. The runtime marks itself non-dumpable, so its /proc/<pid>/environ
and memory are unreadable to the other uid (Fargate offers no hidepid mount option).
`off`: commands run as the runtime's own user, on the host, with only the clean environment and the
limits; every task says `sandbox: "off"`.
"""

from __future__ import annotations

from pathlib import Path

from agent.process import ChildSetup, ProcessResult, run_process, with_data_fd
from agent.sandbox.protocol import SandboxMode


class DirectSandbox:
    """Runs `bash -c` in the clone as the given user with the limits applied."""

    def __init__(self, mode: SandboxMode, repo: Path, env: dict[str, str], child: ChildSetup):
        self.mode = mode
        self._repo = repo
        self._env = env
        self._child = child

    async def run(self, command: str, *, timeout: float, output_limit: int,
                  data_fd: int | None = None) -> ProcessResult:
        return await run_process(["bash", "-c", command], cwd=self._repo, env=self._env, timeout=timeout,
                                 output_limit=output_limit, child=with_data_fd(self._child, data_fd))

    async def close(self) -> None:
        return None

"""Sandboxes without namespaces: `two-user` (the ECS image) and `off` (the operator's explicit opt-out).

`two-user`: the runtime runs as one user and every command as a second, unprivileged one that owns
the workspace and nothing else. The runtime marks itself non-dumpable, so its /proc/<pid>/environ
and memory are unreadable to the other uid (Fargate offers no hidepid mount option).
`off`: commands run as the runtime's own user, on the host, with only the clean environment and the
limits; every task says `sandbox: "off"`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent.process import ChildSetup, ProcessResult, run_process, with_data_fd
from agent.sandbox.errors import SandboxUnavailable
from agent.sandbox.loopback import serve_socket
from agent.sandbox.protocol import SandboxMode, SessionSpec
from agent.sandbox.session import ProcessSession, start_session


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

    async def start(self, spec: SessionSpec) -> ProcessSession:
        """The session as the command user; the runtime serves its sockets on the shared loopback itself (no
        network namespace here, and the command user may not enter the runtime's socket directories).

        Without a mount namespace `spec.etc_files` cannot be shown to the session alone (the host's /etc is
        never written): the session must not depend on them.
        """
        servers: list[asyncio.Server] = []
        try:
            for port, path in sorted(spec.sockets.items()):
                servers.append(await serve_socket(port, path))
        except OSError as exc:
            for server in servers:
                server.close()
            raise SandboxUnavailable(f"could not serve the session's socket on loopback: {exc}") from exc
        own = self.mode == "two-user" and self._child.user is not None  # that uid runs nothing but the task
        return await start_session(spec.argv, cwd=self._repo, env={**self._env, **spec.env}, child=self._child,
                                   sweep_uid=self._child.user if own else None, servers=tuple(servers))

    async def close(self) -> None:
        return None


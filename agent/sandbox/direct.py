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
from agent.sandbox.errors import SandboxUnavailable
from agent.sandbox.protocol import SandboxMode, SessionSpec
from agent.sandbox.session import ProcessSession, start_session

_FORWARDER = Path(__file__).with_name("forward.py")


class DirectSandbox:
    """Runs `bash -c` in the clone as the given user with the limits applied."""

    def __init__(self, mode: SandboxMode, repo: Path, env: dict[str, str], child: ChildSetup, *,
                 python: str | None = None):
        self.mode = mode
        self._repo = repo
        self._env = env
        self._child = child
        self._python = python  # for a session's forwarded sockets

    async def run(self, command: str, *, timeout: float, output_limit: int,
                  data_fd: int | None = None) -> ProcessResult:
        return await run_process(["bash", "-c", command], cwd=self._repo, env=self._env, timeout=timeout,
                                 output_limit=output_limit, child=with_data_fd(self._child, data_fd))

    async def start(self, spec: SessionSpec) -> ProcessSession:
        """The session as the command user; its sockets forwarded on the shared loopback (no namespace here).

        Without a mount namespace `spec.etc_files` cannot be shown to the session alone (the host's /etc is
        never written): the session must not depend on them.
        """
        argv = spec.argv
        if spec.sockets:
            if self._python is None:
                raise SandboxUnavailable("a session's forwarded sockets need a system python3 under /usr")
            pairs = [str(x) for port, path in sorted(spec.sockets.items()) for x in (port, path)]
            argv = [self._python, "-I", "-S", str(_FORWARDER), *pairs, "--", *argv]
        own = self.mode == "two-user" and self._child.user is not None  # that uid runs nothing but the task
        return await start_session(argv, cwd=self._repo, env={**self._env, **spec.env}, child=self._child,
                                   sweep_uid=self._child.user if own else None)

    async def close(self) -> None:
        return None


"""What a sandbox offers the tools and the workspace, and the limits it enforces."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from agent.process import ProcessResult

SandboxMode = Literal["bwrap", "two-user", "off"]


@dataclass(frozen=True)
class SandboxLimits:
    """Per-command ceilings; each ends a runaway command with an ordinary error inside the sandbox."""

    max_processes: int = 256
    memory_bytes: int = 4 << 30  # RLIMIT_DATA: heap and private writable mappings, per process
    file_size_bytes: int = 2 << 30
    tmp_bytes: int = 512 << 20
    output_bytes: int = 64 << 20  # read past this and the command is stopped


@dataclass(frozen=True)
class SandboxPaths:
    """The task's own directories a command may see: the clone (its cwd) and a private home."""

    repo: Path
    home: Path
    tmp: Path


@dataclass(frozen=True)
class SessionSpec:
    """A long-lived program in the task's sandbox (an engine's CLI), talking to the runtime over stdio."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)  # on top of the sandbox's own allowlisted environment
    sockets: dict[int, Path] = field(default_factory=dict)  # unix socket (host) served on 127.0.0.1:PORT inside
    readonly: tuple[Path, ...] = ()  # extra directories shown read-only at their own path (the CLI's)
    # path under /etc -> text, read-only (managed settings); only a sandbox with a mount namespace can show them
    etc_files: dict[str, str] = field(default_factory=dict)


class SandboxSession(Protocol):
    """A running session: its pipes, and a stop that takes every process it started with it."""

    stdin: asyncio.StreamWriter
    stdout: asyncio.StreamReader
    stderr: asyncio.StreamReader

    @property
    def returncode(self) -> int | None: ...

    async def wait(self) -> int: ...

    async def stop(self) -> None:
        """Kill the program and all its children (idempotent)."""
        ...


class Sandbox(Protocol):
    """Runs a shell command of the model or the repository, contained."""

    mode: SandboxMode

    async def run(self, command: str, *, timeout: float, output_limit: int,
                  data_fd: int | None = None) -> ProcessResult:
        """Run `bash -c command` in the clone; never raises for what the command does.

        `data_fd`: a descriptor the runtime opened for the command to write data to (binary, unbounded by
        `output_limit`); the command finds it open under the same number.
        """
        ...

    async def start(self, spec: SessionSpec) -> SandboxSession:
        """Start `spec.argv` in the clone, contained as every command is, with stdin/stdout/stderr piped."""
        ...

    async def close(self) -> None:
        """Stop what the sandbox started for the task (the egress proxy)."""
        ...

"""Applying a patch to the clone INSIDE the sandbox: the runtime's git never applies anything to a tree a command
wrote. The patch crosses as data, on a memory file descriptor the command reads (no path the tree could hold)."""

from __future__ import annotations

import os
import shlex

from agent.process import ProcessResult
from agent.sandbox.protocol import Sandbox
from shared.observability.redaction import redact

_OUTPUT_LIMIT = 65_536
# The sandbox's git: its own configuration only (no system or global file, no hooks), whatever the tree holds.
_GIT = ("export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null "
        "GIT_CONFIG_PARAMETERS=\"'core.hooksPath=/dev/null' 'core.fsmonitor=false'\"\n")


def tail(text: str, lines: int = 15) -> str:
    """The last lines of a command's output, redacted."""
    return redact("\n".join(text.strip().splitlines()[-lines:]))


async def in_sandbox(sandbox: Sandbox, script: str, patch: bytes, *, timeout: float) -> ProcessResult:
    """Run `script` in the clone with the patch readable from descriptor `$fd` (from its start)."""
    fd = os.memfd_create("bgagent-patch", os.MFD_CLOEXEC)
    try:
        _write_all(fd, patch)
        os.lseek(fd, 0, os.SEEK_SET)
        return await sandbox.run(f"fd={fd}\n{_GIT}{script}", timeout=timeout, output_limit=_OUTPUT_LIMIT, data_fd=fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


async def apply_patch(sandbox: Sandbox, patch: bytes, *, timeout: float) -> ProcessResult:
    """`git apply` of the patch on the clone's working tree."""
    return await in_sandbox(sandbox, 'git apply --whitespace=nowarn <&"$fd"', patch, timeout=timeout)


async def patch_paths(sandbox: Sandbox, patch: bytes, *, timeout: float) -> list[str] | None:
    """Every path the patch touches, as git reads it (None: git cannot read the patch)."""
    result = await in_sandbox(sandbox, 'git apply --numstat -z <&"$fd"', patch, timeout=timeout)
    if not result.ok:
        return None
    paths: list[str] = []
    fields = result.output.split("\0")
    i = 0
    while i < len(fields):
        head = fields[i].split("\t")
        if len(head) == 3 and head[2]:
            paths.append(head[2])
        elif len(head) == 3 and i + 2 < len(fields):  # a rename or copy: "a\td\t\0old\0new\0"
            paths += fields[i + 1:i + 3]
            i += 2
        i += 1
    return paths


async def restore_paths(sandbox: Sandbox, paths: list[str], *, timeout: float) -> ProcessResult:
    """Put `paths` back as the checked-out commit has them (absent there: removed)."""
    lines = [f"git checkout HEAD -- {q} 2>/dev/null || rm -rf -- {q}" for q in map(shlex.quote, paths)]
    return await sandbox.run(_GIT + "\n".join(["set -u", *lines, "true"]), timeout=timeout,
                             output_limit=_OUTPUT_LIMIT)

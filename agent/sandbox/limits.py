"""The OS user and resource limits a sandboxed command starts with.

RLIMIT_NPROC does not bind root (kernel: the root user is exempt), so when the runtime is root the
command drops to an unprivileged uid of its own, derived from the task id; when the runtime is an
ordinary user, the limit is counted on top of the processes that user already has.
"""

from __future__ import annotations

import ctypes
import os
import resource
import zlib
from pathlib import Path
from typing import Callable

from agent.process import ChildSetup
from agent.sandbox.protocol import SandboxLimits

_PR_SET_NO_NEW_PRIVS = 38
_UID_SPAN = 50_000


def task_uid(task_id: str, base: int) -> int:
    """The unprivileged uid a task's commands run as when the runtime is root."""
    return base + zlib.crc32(task_id.encode()) % _UID_SPAN


def processes_of(uid: int, proc: Path = Path("/proc")) -> int:
    """How many processes `uid` has right now (they count against the same RLIMIT_NPROC)."""
    count = 0
    for entry in proc.iterdir():
        try:
            count += entry.name.isdigit() and entry.stat().st_uid == uid
        except OSError:
            continue  # exited while we looked
    return count


def _before_exec(limits: SandboxLimits, nproc: int) -> Callable[[], None]:
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: the child only calls it

    def apply() -> None:  # runs in the child, after any uid change, just before exec
        for which, value in ((resource.RLIMIT_NPROC, nproc), (resource.RLIMIT_DATA, limits.memory_bytes),
                             (resource.RLIMIT_FSIZE, limits.file_size_bytes), (resource.RLIMIT_CORE, 0)):
            resource.setrlimit(which, (value, value))
        prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    return apply


def child_setup(limits: SandboxLimits, *, switch_to: int | None = None, own_uid: bool = False) -> ChildSetup:
    """Start (as `switch_to` if given) with the limits applied.

    `own_uid`: the command's uid runs nothing else, so the process limit is the limit itself;
    otherwise the uid's existing processes count against RLIMIT_NPROC too and are added to it.
    """
    nproc = limits.max_processes if own_uid else processes_of(os.getuid()) + limits.max_processes
    return ChildSetup(user=switch_to, group=switch_to, before_exec=_before_exec(limits, nproc),
                      max_output_bytes=limits.output_bytes)


def hand_over(paths: list[Path], uid: int | None) -> None:
    """Give the command user the task's directories (the runtime, as root, can still read them)."""
    if uid is None:
        return
    for top in paths:
        os.chown(top, uid, uid, follow_symlinks=False)
        for root, dirs, files in os.walk(top):
            for name in dirs + files:
                os.chown(os.path.join(root, name), uid, uid, follow_symlinks=False)

"""Where a benchmark's CPU went: CPU-seconds per process of this benchmark's tree, children included.

Each process's figure is its own time plus that of the children it reaped (/proc stat fields 14–17),
so a zygote's line holds every session it forked, ended ones included; live processes count themselves.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")
_NAMES = ("cli.local.emulator", "services.gateway", "services.hydrator", "services.dispatcher",
          "services.finalizer", "services.reconciler", "shared.compute.zygote", "shared.compute.supervisor",
          "uvicorn", "bench.")


def _fields(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name: fields[1] is the parent, [11:15] user, system, children's."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def own_seconds(pid: int) -> float:
    """User + system CPU the process itself has used so far (no children)."""
    fields = _fields(pid)
    return sum(int(f) for f in fields[11:13]) / _TICK if fields else 0.0


def _stat(pid: int) -> tuple[int, float] | None:
    fields = _fields(pid)
    if fields is None:
        return None
    return int(fields[1]), sum(int(f) for f in fields[11:15]) / _TICK  # ppid; utime+stime+cutime+cstime


def _name(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"
    return next((n.rstrip(".") for n in _NAMES if n in cmd), cmd.split(" ")[0].rsplit("/", 1)[-1] or "?")


def snapshot(root: int | None = None) -> Counter[str]:
    """CPU-seconds so far of every process under root (default: this process), by what it runs."""
    root = root or os.getpid()
    stats = {pid: s for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()) if (s := _stat(pid))}
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, _) in stats.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    totals: Counter[str] = Counter()
    for pid in tree:  # reaped processes are in their parent's figure; live ones are counted themselves
        totals[_name(pid)] += stats[pid][1]
    return totals


def report(before: Counter[str], after: Counter[str], tasks: int) -> str:
    """CPU-seconds per task by process, largest first."""
    used = {name: after[name] - before.get(name, 0.0) for name in after}
    lines = [f"  {name:<24} {secs / tasks * 1000:7.0f} ms CPU per task"
             for name, secs in sorted(used.items(), key=lambda kv: -kv[1]) if secs > 0.005]
    total = sum(used.values()) / tasks * 1000
    return "\n".join([*lines, f"  {'total':<24} {total:7.0f} ms CPU per task"])

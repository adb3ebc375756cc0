"""What the sandbox costs: added latency per command (`true` inside vs outside) and per task start.

    .venv/bin/python -m bench.sandbox --commands 200 --starts 30
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Awaitable, Callable

from agent.sandbox.factory import SandboxConfig, SandboxFactory, TaskSandboxRequest
from agent.sandbox.protocol import Sandbox, SandboxPaths
from agent.workspace import Workspace
from bench.common import summary


async def _ignore(*_: object) -> None:
    return None


def _workspace(base: Path) -> Workspace:
    ws = Workspace(uuid.uuid4().hex.upper(), base_dir=base, tool_path=os.environ["PATH"], git_timeout=30)
    ws.repo.mkdir()
    return ws


async def _open(ws: Workspace, mode: str, allowlist: tuple[str, ...] = ()) -> Sandbox:
    request = TaskSandboxRequest(ws.root.name, SandboxPaths(ws.repo, ws.home, ws.tmp), ws.tool_env(),
                                 allowlist=allowlist)
    return await SandboxFactory(SandboxConfig(mode=mode)).open(request, _ignore)  # type: ignore[arg-type]


async def _timed(n: int, step: Callable[[], Awaitable[object]]) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        await step()
        times.append((time.perf_counter() - started) * 1000)
    return times


async def per_command(base: Path, n: int) -> None:
    for label, mode, allowlist in (("outside (off)", "off", ()), ("bwrap", "bwrap", ()),
                                   ("bwrap + egress forwarder", "bwrap", ("pypi.org",))):
        sandbox = await _open(_workspace(base), mode, allowlist)
        times = await _timed(n, lambda sandbox=sandbox: sandbox.run("true", timeout=10, output_limit=1000))
        await sandbox.close()
        print(f"command `true` {label:26} ms: {summary(times)}")
        per_command.medians[label] = statistics.median(times)  # type: ignore[attr-defined]


per_command.medians = {}  # type: ignore[attr-defined]


async def per_start(base: Path, n: int) -> None:
    for label, mode, allowlist in (("off", "off", ()), ("bwrap", "bwrap", ()), ("bwrap + egress proxy", "bwrap",
                                                                                  ("pypi.org",))):
        async def start(mode: str = mode, allowlist: tuple[str, ...] = allowlist) -> None:
            sandbox = await _open(_workspace(base), mode, allowlist)
            await sandbox.close()
        times = await _timed(n, start)
        print(f"task start (open + probe) {label:22} ms: {summary(times)}")
        per_start.medians[label] = statistics.median(times)  # type: ignore[attr-defined]


per_start.medians = {}  # type: ignore[attr-defined]


async def run(commands: int, starts: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as base:
        await per_command(Path(base), commands)
        await per_start(Path(base), starts)
    c, s = per_command.medians, per_start.medians  # type: ignore[attr-defined]
    print(f"added per command: bwrap {c['bwrap'] - c['outside (off)']:.1f} ms, with forwarder "
          f"{c['bwrap + egress forwarder'] - c['outside (off)']:.1f} ms (target <= 20 ms)")
    print(f"added per task start: bwrap {s['bwrap'] - s['off']:.1f} ms, with proxy "
          f"{s['bwrap + egress proxy'] - s['off']:.1f} ms (target <= 150 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--starts", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(run(args.commands, args.starts))


if __name__ == "__main__":
    main()

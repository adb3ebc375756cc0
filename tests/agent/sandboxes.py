"""Opening a task's sandbox the way the runner does, for tests of the tools and the boundary."""

from __future__ import annotations

import os
from pathlib import Path

from agent.sandbox.egress_policy import Verdict
from agent.sandbox.factory import SandboxConfig, SandboxFactory, TaskSandboxRequest
from agent.sandbox.protocol import Sandbox, SandboxPaths
from agent.work_import import ChangeLimits
from agent.workspace import Workspace


async def ignore_egress(host: str, port: int, verdict: Verdict) -> None:
    return None


async def open_sandbox(ws: Workspace, config: SandboxConfig | None = None, *, task_id: str = "01TESTTASK",
                       allowlist: tuple[str, ...] = (), factory: SandboxFactory | None = None) -> Sandbox:
    """The configured sandbox (bwrap by default) over the workspace's clone and home."""
    factory = factory or SandboxFactory(config or SandboxConfig())
    request = TaskSandboxRequest(task_id, SandboxPaths(ws.repo, ws.home, ws.tmp), ws.tool_env(), allowlist=allowlist,
                                 readonly_paths=ws.sandbox_readonly)
    return await factory.open(request, ignore_egress)


async def cloned_workspace(base: Path, url: str, *, branch: str, task_id: str, token: str | None = None,
                           limits: ChangeLimits | None = None) -> Workspace:
    """A workspace cloned on `branch` with its sandbox open, as the runner leaves it before the model runs."""
    ws = Workspace(task_id, base_dir=base, tool_path=os.environ["PATH"], git_timeout=60, limits=limits)
    await ws.clone(url, token, branch=branch, default_branch="main")
    ws.sandbox = await open_sandbox(ws, task_id=task_id)
    return ws


async def as_model(ws: Workspace, command: str) -> str:
    """A command of the model's, in the task's sandbox; it must succeed."""
    assert ws.sandbox is not None
    result = await ws.sandbox.run(command, timeout=60, output_limit=100_000)
    assert result.ok, result.output
    return result.output

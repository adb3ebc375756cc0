"""Opening a task's sandbox the way the runner does, for tests of the tools and the boundary."""

from __future__ import annotations

from agent.sandbox.egress_policy import Verdict
from agent.sandbox.factory import SandboxConfig, SandboxFactory, TaskSandboxRequest
from agent.sandbox.protocol import Sandbox, SandboxPaths
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

"""Choosing and opening the task's sandbox once, at the start of its work; never a silent fallback."""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import sys
from dataclasses import dataclass, field
from functools import partial
from typing import Awaitable, Callable, Sequence

from agent.sandbox.bwrap import PROXY_PORT, BwrapSandbox, build_etc, bwrap_argv, install_forwarder
from agent.sandbox.direct import DirectSandbox
from agent.sandbox.egress import EgressProxy, OnUnlisted
from agent.sandbox.egress_policy import AddressCheck, EgressPolicy, Resolver, Verdict, system_resolver
from agent.sandbox.errors import SandboxUnavailable
from agent.sandbox.limits import child_setup, hand_over, task_uid
from agent.sandbox.protocol import Sandbox, SandboxLimits, SandboxMode, SandboxPaths
from agent.settings import AgentSettings
from shared.netaddr import public_address

log = logging.getLogger(__name__)
OnEgress = Callable[[str, int, Verdict], Awaitable[None]]
_PROBE_TIMEOUT = 15.0
_PR_SET_DUMPABLE = 4
REMEDY_BWRAP = ("install bubblewrap (apt-get install -y bubblewrap) on the agent host and allow unprivileged user "
                "namespaces, or set BGAGENT_SANDBOX=off to run commands unsandboxed (not recommended)")


@dataclass(frozen=True)
class SandboxConfig:
    """The operator's sandbox settings."""

    mode: SandboxMode = "bwrap"
    readonly_paths: tuple[str, ...] = ()
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    uid_base: int = 200_000  # bwrap as root: each task's commands run as base + hash(task id)
    command_uid: int | None = None  # two-user: the image's unprivileged command user


@dataclass(frozen=True)
class TaskSandboxRequest:
    """What one task's sandbox is made of."""

    task_id: str
    paths: SandboxPaths
    env: dict[str, str]
    allowlist: Sequence[str] = ()
    readonly_paths: Sequence[str] = ()
    on_unlisted: OnUnlisted | None = None  # `egress: ask`: the proxy runs even with an empty allowlist


def sandbox_python() -> str | None:
    """A system python3 the sandbox can see (under a read-only system directory), for the forwarder."""
    for candidate in (os.path.realpath(sys.executable), shutil.which("python3", path="/usr/bin:/usr/local/bin")):
        if candidate and candidate.startswith(("/usr/", "/opt/")) and os.access(candidate, os.X_OK):
            return candidate
    return None


def config_from(settings: AgentSettings) -> SandboxConfig:
    """The sandbox configuration in the agent's settings."""
    mb = 1 << 20
    limits = SandboxLimits(max_processes=settings.sandbox_max_processes, memory_bytes=settings.sandbox_memory_mb * mb,
                           file_size_bytes=settings.sandbox_file_size_mb * mb, tmp_bytes=settings.sandbox_tmp_mb * mb,
                           output_bytes=settings.sandbox_output_max_mb * mb)
    paths = tuple(p for p in settings.sandbox_readonly_paths.split(":") if p)
    return SandboxConfig(settings.sandbox, paths, limits, settings.sandbox_uid_base, settings.sandbox_command_uid)


class SandboxFactory:
    """Opens the configured sandbox for a task (bwrap, two-user or off)."""

    def __init__(self, config: SandboxConfig, *, resolver: Resolver = system_resolver,
                 address_allowed: AddressCheck = public_address):
        self.config = config
        self._resolver = resolver
        self._address_allowed = address_allowed

    async def open(self, request: TaskSandboxRequest, on_egress: OnEgress) -> Sandbox:
        """The task's sandbox, proven to start; SandboxUnavailable when none can be made."""
        mode = self.config.mode
        if mode == "off":
            log.warning("SANDBOX OFF: commands run unsandboxed as the runtime's user, with its network")
            return DirectSandbox("off", request.paths.repo, request.env, child_setup(self.config.limits))
        if mode == "two-user":
            return self._two_user(request)
        return await self._bwrap(request, on_egress)

    def _two_user(self, request: TaskSandboxRequest) -> Sandbox:
        uid = self.config.command_uid
        if uid is None or os.geteuid() != 0:
            raise SandboxUnavailable("the two-user sandbox needs the runtime to run as root and "
                                     "BGAGENT_SANDBOX_COMMAND_UID set to the image's command user")
        mark_runtime_undumpable()
        hand_over([request.paths.repo, request.paths.home, request.paths.tmp], uid)
        request.paths.repo.parent.chmod(0o711)  # the command user may pass through, not list
        return DirectSandbox("two-user", request.paths.repo, request.env,
                             child_setup(self.config.limits, switch_to=uid, own_uid=True))

    async def _bwrap(self, request: TaskSandboxRequest, on_egress: OnEgress) -> Sandbox:
        if shutil.which("bwrap") is None:
            raise SandboxUnavailable(f"bubblewrap (bwrap) is not installed: {REMEDY_BWRAP}")
        uid = task_uid(request.task_id, self.config.uid_base) if os.geteuid() == 0 else None
        hand_over([request.paths.repo, request.paths.home], uid)
        env = {**request.env, "TMPDIR": "/tmp"}
        proxy, python, egress = None, sandbox_python(), None
        if request.allowlist or request.on_unlisted is not None:
            proxy, python = await self._egress_proxy(request, on_egress)
            egress = proxy.socket_path
            env |= _proxy_env(f"http://127.0.0.1:{PROXY_PORT}")
        readonly = [p for p in (*self.config.readonly_paths, *request.readonly_paths) if os.path.isabs(p)]
        etc = build_etc(request.paths.repo.parent / "etc")
        argv = partial(bwrap_argv, request.paths, etc=etc, readonly=readonly, limits=self.config.limits, drop_to=uid,
                       egress=egress, forwarder=install_forwarder(request.paths.repo.parent))
        # As root the uid changes inside the sandbox (setpriv); the limits are set on bwrap and inherited.
        child = child_setup(self.config.limits, own_uid=uid is not None)
        sandbox = BwrapSandbox(argv, env, child, python=python, egress=egress is not None, closer=proxy)
        await self._probe(sandbox)
        return sandbox

    async def _egress_proxy(self, request: TaskSandboxRequest, on_egress: OnEgress) -> tuple[EgressProxy, str]:
        """The task's egress proxy, started, and the python the in-sandbox forwarder runs with."""
        python = sandbox_python()
        if python is None:
            raise SandboxUnavailable("the egress allowlist needs a system python3 under /usr for the forwarder")
        proxy = EgressProxy(EgressPolicy(request.allowlist, resolver=self._resolver,
                                         address_allowed=self._address_allowed), on_egress, request.on_unlisted)
        try:
            await proxy.start()
        except OSError as exc:
            await proxy.close()
            raise SandboxUnavailable(f"the egress proxy could not start: {exc}") from exc
        return proxy, python

    @staticmethod
    async def _probe(sandbox: BwrapSandbox) -> None:
        result = await sandbox.run("true", timeout=_PROBE_TIMEOUT, output_limit=4_000)
        if not result.ok:
            await sandbox.close()
            detail = "timed out" if result.timed_out else result.output.strip()[-500:]
            raise SandboxUnavailable(f"bubblewrap could not start a sandbox ({detail}): {REMEDY_BWRAP}")


def _proxy_env(url: str) -> dict[str, str]:
    local = "localhost,127.0.0.1"
    return {**{name: url for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")},
            "NO_PROXY": local, "no_proxy": local}


def mark_runtime_undumpable() -> None:
    """Make this process's /proc entries (environ, mem) unreadable to the command user."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


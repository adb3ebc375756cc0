"""The `bwrap` sandbox: Linux namespaces through bubblewrap, the embedded stack's default.

A command sees the clone and the task's home (read-write), a private /tmp, read-only system
directories and the parts of /etc toolchains read (never shadow, ssh or cloud credentials),
the operator's read-only paths, and nothing else of the host. It has its own pid, net, ipc,
uts, user and cgroup namespaces: no other process is visible and the only network is loopback,
where a forwarder to the egress proxy listens when the repository allows any host.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import shutil
from functools import partial
from pathlib import Path
from typing import Protocol, Sequence

from agent.process import ChildSetup, ProcessResult, run_process, with_data_fd
from agent.sandbox.protocol import SandboxLimits, SandboxMode, SandboxPaths, SessionSpec
from agent.sandbox.session import ProcessSession, start_session

_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt")
_ETC = ("alternatives", "ssl", "ca-certificates", "ca-certificates.conf", "pki", "crypto-policies", "hosts",
        "host.conf", "nsswitch.conf", "resolv.conf", "passwd", "group", "localtime", "timezone", "ld.so.cache",
        "ld.so.conf", "ld.so.conf.d", "os-release", "debian_version", "mime.types", "protocols", "services",
        "inputrc", "python3*", "java*", "gitconfig")
EGRESS_SOCKET = "/run/bgagent/egress.sock"
FORWARDER = "/run/bgagent/forward.py"
PROXY_PORT = 3128
FORWARD_SCRIPT = Path(__file__).with_name("forward.py")


def _system_binds(etc: Path) -> list[str]:
    args: list[str] = []
    for path in _SYSTEM_DIRS:
        if os.path.islink(path):  # merged /usr: /bin -> usr/bin stays a link, not a second mount
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--ro-bind", str(etc), "/etc"]
    for mountpoint in sorted(p for p in etc.iterdir() if p.is_dir() and not p.is_symlink()):
        if any(fnmatch.fnmatch(mountpoint.name, pattern) for pattern in _ETC):  # else the runtime's own (a session's)
            args += ["--ro-bind", f"/etc/{mountpoint.name}", f"/etc/{mountpoint.name}"]
    return args


def build_etc(dest: Path) -> Path:
    """The allowlisted parts of /etc, once per task: files copied, directories as mount points for binds.

    One mount for the files instead of one per file keeps each command's start cheap.
    """
    dest.mkdir(mode=0o755)
    for pattern in _ETC:
        for path in sorted(glob.glob(f"/etc/{pattern}")):
            target = dest / os.path.basename(path)
            try:
                if os.path.isdir(path) and not os.path.islink(path):
                    target.mkdir(mode=0o755)
                elif os.access(path, os.R_OK):
                    shutil.copyfile(path, target, follow_symlinks=False)
            except OSError:
                continue  # unreadable to the runtime: then not needed by the commands either
    return dest


def _traversable_parents(targets: Sequence[Path]) -> list[str]:
    """Directories leading to the binds, made 0755: as root, bwrap would create them 0700 and the
    command user could not reach its own clone by its absolute path."""
    args: list[str] = []
    seen: set[Path] = set()
    for target in targets:
        for parent in reversed(target.parents[:-1]):
            if parent not in seen and str(parent) not in _SYSTEM_DIRS:
                seen.add(parent)
                args += ["--perms", "0755", "--dir", str(parent)]
    return args


def _identity(drop_to: int | None) -> tuple[list[str], list[str]]:
    """bwrap's namespace options and what runs before the command, by who starts bwrap.

    An ordinary user: bwrap makes a user namespace (it cannot mount without one). Root: a user
    namespace would keep the command root outside (RLIMIT_NPROC would not bind), so bwrap sets up
    the other namespaces as root and `setpriv` drops the command to its own unprivileged uid with no
    capabilities; --perms keeps the private /tmp writable for it.
    """
    if drop_to is None:
        return ["--unshare-all", "--unshare-user", "--disable-userns"], []
    unshare = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
               "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    drop = ["setpriv", f"--reuid={drop_to}", f"--regid={drop_to}", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all", "--no-new-privs"]
    return unshare, drop


def socket_inside(port: int) -> str:
    """Where a session's socket forwarded to 127.0.0.1:PORT is bound inside the sandbox."""
    return f"/run/bgagent/port-{port}.sock"


def install_forwarder(directory: Path) -> Path:
    """A world-readable copy of the forwarder in the task's runtime directory (the source tree may not be readable
    to the sandbox's user)."""
    copy = directory / FORWARD_SCRIPT.name
    shutil.copyfile(FORWARD_SCRIPT, copy)
    copy.chmod(0o644)
    return copy


def bwrap_argv(paths: SandboxPaths, *, etc: Path, readonly: Sequence[str], limits: SandboxLimits,
               drop_to: int | None, egress: Path | None, forwarder: Path | None = None,
               sockets: dict[int, Path] | None = None) -> list[str]:
    """The bwrap command line, ending with what runs before the command itself.

    `egress`: the egress proxy's socket; `sockets`: a session's own (the model relay's); both reach the sandbox
    through the `forwarder` (install_forwarder), bound in when either is.
    """
    unshare, drop = _identity(drop_to)
    sockets = sockets or {}
    args = ["bwrap", *unshare, "--die-with-parent", "--new-session", "--hostname", "bgagent-sandbox",
            "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp",
            *_system_binds(etc)]
    targets = [*(Path(p) for p in readonly), paths.home, paths.repo,
               *([Path(EGRESS_SOCKET)] if egress or sockets else [])]
    args += _traversable_parents(targets)  # an operator's toolchain under /root or /work must be reachable too
    for path in readonly:
        args += ["--ro-bind-try", path, path]
    args += ["--bind", str(paths.home), str(paths.home), "--bind", str(paths.repo), str(paths.repo)]
    if egress is not None:
        args += ["--bind", str(egress), EGRESS_SOCKET]
    for port, socket in sorted(sockets.items()):
        args += ["--bind", str(socket), socket_inside(port)]
    if egress is not None or sockets:
        if forwarder is None:
            raise ValueError("a socket bound into the sandbox needs the forwarder")
        args += ["--ro-bind", str(forwarder), FORWARDER]
    return [*args, "--chdir", str(paths.repo), "--", *drop]


class BwrapSandbox:
    """Each command in a fresh bubblewrap sandbox (namespaces, limits, clean environment)."""

    mode: SandboxMode = "bwrap"

    def __init__(self, argv: "partial[list[str]]", env: dict[str, str], child: ChildSetup, *,
                 python: str | None, egress: bool, closer: "Closer | None" = None):
        self._argv = argv  # bwrap_argv with the task's layout; a session adds its own sockets and /etc
        self._prefix = argv()
        self._env = env
        self._child = child
        self._python = python  # the sandbox's python, for the forwarder to the egress proxy and a session's sockets
        self._egress = egress
        self._closer = closer

    def _forwarded(self, inner: list[str], sockets: dict[int, Path]) -> list[str]:
        pairs = [str(PROXY_PORT), EGRESS_SOCKET] if self._egress else []
        for port in sorted(sockets):
            pairs += [str(port), socket_inside(port)]
        if not pairs:
            return inner
        if self._python is None:
            raise RuntimeError("a forwarded socket needs the sandbox's python")
        return [self._python, "-I", "-S", FORWARDER, *pairs, "--", *inner]

    async def run(self, command: str, *, timeout: float, output_limit: int,
                  data_fd: int | None = None) -> ProcessResult:
        inner = self._forwarded(["bash", "-c", command], {})
        return await run_process([*self._prefix, *inner], cwd=Path("/"), env=self._env, timeout=timeout,
                                 output_limit=output_limit, child=with_data_fd(self._child, data_fd))

    async def start(self, spec: SessionSpec) -> ProcessSession:
        """The session's program in a sandbox like every command's, with its sockets, directories and /etc files."""
        etc = self._argv.keywords["etc"]
        if spec.etc_files:
            etc = _etc_with(etc, spec.etc_files)
        prefix = self._argv(etc=etc, sockets=spec.sockets,
                            readonly=[*self._argv.keywords["readonly"], *map(str, spec.readonly)])
        return await start_session([*prefix, *self._forwarded(spec.argv, spec.sockets)], cwd=Path("/"),
                                   env={**self._env, **spec.env}, child=self._child)

    async def close(self) -> None:
        if self._closer is not None:
            await self._closer.close()
            self._closer = None


def _etc_with(etc: Path, files: dict[str, str]) -> Path:
    """A copy of the task's /etc with a session's own files added (read-only inside, like the rest)."""
    session = etc.with_name(f"{etc.name}-session")
    shutil.rmtree(session, ignore_errors=True)
    shutil.copytree(etc, session, symlinks=True)
    for relative, text in files.items():
        target = session / relative
        target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        target.write_text(text)
        target.chmod(0o644)
    return session


class Closer(Protocol):
    """Something the sandbox stops at the end of the task."""

    async def close(self) -> None: ...

"""Controlling an embedded stack from another process: start it detached, inspect it, stop it."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Mapping

import httpx

from cli.errors import CliError
from cli.local.launcher import LOCK_FILE, read_lock
from cli.local.processes import terminate, wait_gone
from cli.local.stack import StackConfig
from cli.state import read_stack_state
from shared.compute.pids import pid_alive
from shared.compute.process import live_sessions

LAUNCHER_LOG = "launcher.log"


def running_launcher(state_dir: Path) -> dict | None:
    """The live launcher of this state directory: its lock, else the one stack.json names."""
    lock = read_lock(state_dir)
    if lock is not None:
        return lock
    state = read_stack_state(state_dir) or {}
    if pid_alive(state.get("launcher_pid"), state.get("launcher_start")):
        return {"pid": state["launcher_pid"], "api_url": state.get("api_url")}
    return None


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        return httpx.get(f"{api_url}/healthz", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def launcher_command(config: StackConfig) -> list[str]:
    cmd = [sys.executable, "-m", "cli.local.launcher", "--state-dir", str(config.state_dir),
           "--port", str(config.api_port), "--aws-port", str(config.aws_port), "--stack-name", config.stack_name,
           "--region", config.region, "--reconcile-interval", str(config.reconcile_interval)]
    cmd += ["--iam", config.iam]
    cmd += ["--data-dir", str(config.emulator_data_dir)] + (["--demo"] if config.demo else [])
    return cmd + (["--aws-endpoint-url", config.aws_endpoint_url] if config.aws_endpoint_url else [])


def start_detached(config: StackConfig, env: Mapping[str, str], progress: Callable[[str], None], *,
                   timeout: float = 120.0) -> dict:
    """Start a launcher in its own session, relay its progress, and return stack.json once /healthz answers."""
    logs = config.state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / LAUNCHER_LOG
    offset = log_path.stat().st_size if log_path.exists() else 0
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(launcher_command(config), env=dict(env), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    threading.Thread(target=proc.wait, daemon=True).start()  # reap it if it ends while we watch
    deadline = time.monotonic() + timeout
    while True:
        offset = _relay(log_path, offset, progress)
        if proc.poll() is not None:
            raise CliError(f"the stack did not start (launcher exit code {proc.returncode})",
                           hint=f"see {log_path} and the service logs next to it")
        state = read_stack_state(config.state_dir)
        if state and state.get("launcher_pid") == proc.pid and healthy(state["api_url"]):
            _relay(log_path, offset, progress)
            return state
        if time.monotonic() > deadline:
            terminate([proc.pid], grace=30)
            raise CliError(f"the stack did not answer within {timeout:.0f}s; stopped it", hint=f"see {log_path}")
        time.sleep(0.2)


def _relay(path: Path, offset: int, progress: Callable[[str], None]) -> int:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            chunk = f.read()
    except OSError:
        return offset
    complete = chunk[: chunk.rfind(b"\n") + 1]
    for line in complete.decode(errors="replace").splitlines():
        if line.startswith("• "):
            progress(line[2:])
    return offset + len(complete)


def recorded_processes(state: Mapping) -> dict[str, int]:
    """The processes stack.json records that are still the ones it started."""
    starts = state.get("starts") or {}
    return {name: pid for name, pid in (state.get("pids") or {}).items() if pid_alive(pid, starts.get(name))}


def stop_stack(state_dir: Path, *, grace: float = 45.0) -> list[int]:
    """Stop the launcher (it stops what it started), then anything it left behind; the pids stopped."""
    state = read_stack_state(state_dir) or {}
    launcher = running_launcher(state_dir)
    stopped: list[int] = []
    if launcher is not None:
        terminate([launcher["pid"]], grace=grace)
        wait_gone(launcher["pid"], 5)
        stopped.append(launcher["pid"])
    leftovers = recorded_processes(state)  # a launcher that crashed or was killed leaves these behind
    terminate(list(leftovers.values()), grace=15)
    stopped += leftovers.values()
    stopped += stop_agents(Path(state.get("runtime_dir") or state_dir / "runtime"))
    if launcher is None or not pid_alive(launcher["pid"]):
        (state_dir / "stack.json").unlink(missing_ok=True)
        if read_lock(state_dir) is None:
            (state_dir / LOCK_FILE).unlink(missing_ok=True)
    return stopped


def stop_agents(runtime: Path, grace: float = 15.0) -> list[int]:
    """Stop the agent sessions still running from this runtime directory and wait for them to end."""
    pids = live_sessions(runtime)  # only sessions' supervisors: a recorded pid may have been reused since
    terminate(pids, grace=grace)
    return pids


def stack_status(state_dir: Path) -> dict:
    """What is running: launcher, each recorded process with its liveness, the API URL and its health."""
    state = read_stack_state(state_dir) or {}
    launcher = running_launcher(state_dir)
    starts = state.get("starts") or {}
    services = {name: {"pid": pid, "alive": pid_alive(pid, starts.get(name))}
                for name, pid in (state.get("pids") or {}).items()}
    api_url = state.get("api_url") or (launcher or {}).get("api_url")
    is_up = launcher is not None and bool(state)
    return {"running": launcher is not None, "ready": is_up,
            "launcher": {"pid": launcher["pid"], "alive": True} if launcher else None,
            "api_url": api_url, "healthy": bool(is_up and api_url and healthy(api_url)),
            "aws_endpoint_url": state.get("aws_endpoint_url"), "stack_name": state.get("stack_name"),
            "services": services if launcher else {},
            "left_behind": {} if launcher else recorded_processes(state),
            "logs_dir": state.get("logs_dir") or str(state_dir / "logs")}

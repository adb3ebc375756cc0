"""Runs the embedded stack until SIGTERM / Ctrl-C: `bgagent local up` in the foreground, or detached as
`python -m cli.local.launcher` (what `bgagent local up --detach` starts)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Callable

from cli.local.stack import EmbeddedStack, StackConfig
from shared.compute.pids import pid_alive, start_time

LOCK_FILE = "launcher.json"


def read_lock(state_dir: Path) -> dict | None:
    """The launcher that holds the state directory, if it is still alive."""
    try:
        lock = json.loads((state_dir / LOCK_FILE).read_text())
    except (OSError, ValueError):
        return None
    return lock if isinstance(lock, dict) and pid_alive(lock.get("pid"), lock.get("start")) else None


def acquire_lock(state_dir: Path, api_url: str) -> dict | None:
    """Claim the state directory for this process; the live holder's lock if another launcher has it."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / LOCK_FILE
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            holder = read_lock(state_dir)
            if holder is not None:
                return holder
            path.unlink(missing_ok=True)  # left behind by a launcher that crashed
            continue
        with os.fdopen(fd, "w") as f:
            json.dump({"pid": os.getpid(), "start": start_time(os.getpid()), "api_url": api_url}, f)
        return None
    raise RuntimeError(f"could not claim {path}")


def release_lock(state_dir: Path) -> None:
    path = state_dir / LOCK_FILE
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _stop_on_signals() -> dict:
    """SIGTERM, SIGINT and SIGHUP stop the stack; the handlers that were there before."""
    def handler(signum: int, _frame: object) -> None:
        for sig in _SIGNALS:
            signal.signal(sig, signal.SIG_IGN)  # a second signal must not interrupt the shutdown
        raise KeyboardInterrupt

    return {sig: signal.signal(sig, handler) for sig in _SIGNALS}


def run_stack(config: StackConfig, progress: Callable[[str], None],
              on_ready: Callable[[EmbeddedStack], None] = lambda _stack: None) -> int:
    """Start the stack, watch it, and stop every process it started when told to or when one dies."""
    holder = acquire_lock(config.state_dir, config.api_url)
    if holder is not None:
        progress(f"an embedded stack is already running (launcher pid {holder.get('pid')})")
        return 1
    previous = _stop_on_signals()
    stack = EmbeddedStack(config, progress=progress)
    try:
        stack.start()
        on_ready(stack)
        while True:
            dead = [name for name, ok in stack.alive().items() if not ok]
            if dead:
                progress(f"{', '.join(dead)} exited: stopping the stack (see {stack.logs_dir})")
                return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        progress("stopping every process of the stack…")
        return 0
    finally:
        stack.stop()
        release_lock(config.state_dir)
        for sig, old in previous.items():
            signal.signal(sig, old)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m cli.local.launcher")
    p.add_argument("--state-dir", type=Path, required=True)
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--aws-port", type=int, default=4599)
    p.add_argument("--aws-endpoint-url")
    p.add_argument("--stack-name", default="bgagent")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--reconcile-interval", type=float, default=60.0)
    p.add_argument("--iam", choices=("off", "enforce"), default="off")
    p.add_argument("--data-dir", type=Path)
    p.add_argument("--demo", action="store_true")
    a = p.parse_args(argv)
    config = StackConfig(state_dir=a.state_dir, api_port=a.port, aws_port=a.aws_port, stack_name=a.stack_name,
                         region=a.region, aws_endpoint_url=a.aws_endpoint_url, reconcile_interval=a.reconcile_interval,
                         iam=a.iam, data_dir=a.data_dir, demo=a.demo)

    def say(message: str) -> None:
        print(f"• {message}", flush=True)

    try:
        return run_stack(config, say, lambda s: say(f"ready: API {config.api_url}"))
    except Exception as exc:  # the log a detached launcher leaves must say why it stopped
        say(f"failed: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())

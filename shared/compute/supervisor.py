"""Runs one agent process, forwards stop signals, and reports on the bus when it ends."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Protocol

import boto3

from shared.compute.records import write_record
from shared.events.bus import bus_entry
from shared.events.models import ComputeSessionStopped
from shared.settings import PlatformSettings

GRACE_SECONDS = 15


class SupervisorSettings(PlatformSettings):
    # In an IAM-enforcing embedded stack the supervisor reports as itself, not as the agent it runs.
    supervisor_aws_profile: str | None = None


class Child(Protocol):
    """The calls supervision makes on the agent process (subprocess.Popen has them)."""

    def poll(self) -> int | None: ...
    def wait(self) -> int: ...
    def send_signal(self, sig: int) -> None: ...
    def kill(self) -> None: ...


def events_client() -> Any:
    """The EventBridge client the session's end is reported with."""
    settings = SupervisorSettings()
    session = boto3.Session(profile_name=settings.supervisor_aws_profile, region_name=settings.aws_region)
    return session.client("events", endpoint_url=settings.aws_endpoint_url)


def report(task_id: str, exit_code: int | None, events: Any = None, *, supervisor_pid: int | None = None) -> None:
    """Put the session's end on the bus (retried a few times; the reconciler is the safety net)."""
    settings = SupervisorSettings()
    events = events or events_client()
    handle = f"process:{supervisor_pid or os.getpid()}"
    detail = ComputeSessionStopped(task_id=task_id, compute_handle=handle, exit_code=exit_code)
    for attempt in range(5):
        try:
            resp = events.put_events(Entries=[bus_entry(detail, settings.names.event_bus)])
            if not resp.get("FailedEntryCount"):
                return
        except Exception as exc:  # the reconciler still finds the session stopped if this never lands
            print(f"supervisor: could not report session end: {type(exc).__name__}", file=sys.stderr)
        time.sleep(attempt)


def supervise(task_id: str, start_child: Callable[[], Child], *, events: Any = None) -> int:
    """Start the agent, forward SIGTERM/SIGINT to it (killing it after a grace), report its end."""
    started: list[Child] = []
    pending: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        if not started:
            pending.append(signum)  # a stop that arrived before the agent did
            return
        child = started[0]
        if child.poll() is None:
            child.send_signal(signum)
            killer = threading.Timer(GRACE_SECONDS, child.kill)  # an agent that ignores the stop
            killer.daemon = True
            killer.start()

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    started.append(start_child())
    for signum in pending[:1]:
        forward(signum, None)
    code = started[0].wait()
    report(task_id, code, events)
    return 0 if code == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bgagent-supervisor")
    parser.add_argument("--task-id", required=True)
    parser.add_argument("--record", type=Path, help="the session's record: written with this pid at once")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if args.record:
        write_record(args.record, os.getpid(), args.task_id)  # even if whoever started us is gone
    return supervise(args.task_id, lambda: subprocess.Popen(command))


if __name__ == "__main__":
    sys.exit(main())

"""The agent's hold on its task row: waiting for RUNNING, the heartbeat, and stopping when told to."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Mapping, Protocol

from agent.errors import Cancelled, NotStarted
from shared.aws.errors import StoreUnavailable
from shared.clock import utcnow
from shared.tasks.errors import TransitionConflict
from shared.tasks.models import Task
from shared.tasks.states import AGENT_LIVE, PENDING, TaskStatus

log = logging.getLogger(__name__)


class TaskRows(Protocol):
    """The task-store calls the agent makes on its own row."""

    async def get(self, task_id: str) -> Task | None: ...

    async def update(self, task_id: str, changes: Mapping[str, Any], *, expected_status: TaskStatus) -> Task: ...


class TaskGuard:
    """Every write the agent makes to its task goes through here, conditional on RUNNING.

    A failed condition means the task was cancelled or timed out: the guard flips to stopped,
    and from then on refuses to write anything.
    """

    def __init__(self, rows: TaskRows, task_id: str):
        self._rows = rows
        self.task_id = task_id
        self.stopped = asyncio.Event()
        self.stop_reason: str | None = None

    def stop(self, reason: str) -> None:
        """Stop the run (a signal, or the task left RUNNING); idempotent."""
        if not self.stopped.is_set():
            self.stop_reason = reason
            self.stopped.set()

    def is_stopped(self) -> bool:
        """Whether the run must stop (and write nothing more)."""
        return self.stopped.is_set()

    async def wait_until_running(self, *, timeout: float, poll: float) -> Task | None:
        """The task once RUNNING; None if it ended first; NotStarted if it never got there in time."""
        deadline = time.monotonic() + timeout
        # A warm agent is up before the dispatcher has recorded RUNNING: look again soon, then every `poll`.
        delay = min(poll, 0.02)
        while True:
            task = await self._rows.get(self.task_id)
            if task is not None and task.status == TaskStatus.RUNNING:
                return task
            if task is not None and task.status not in PENDING:
                return None  # cancelled (or otherwise over) before we started: nothing for us to do
            if time.monotonic() >= deadline or self.is_stopped():
                seen = task.status.value if task else "missing"
                raise NotStarted(f"task {self.task_id} did not become RUNNING within {timeout:g} s (it is {seen})")
            await asyncio.sleep(delay)
            delay = min(delay * 2, poll)

    async def write(self, changes: Mapping[str, Any]) -> Task:
        """Write fields of the task while it is RUNNING; Cancelled if it no longer is."""
        if self.is_stopped():
            raise Cancelled(self.stop_reason or "stopped")
        try:
            return await self._rows.update(self.task_id, changes, expected_status=TaskStatus.RUNNING)
        except TransitionConflict as exc:
            self.stop(f"the task is {exc.current.status.value}")
            raise Cancelled(self.stop_reason or "stopped") from exc

    async def beat(self) -> None:
        """One heartbeat, while RUNNING or AWAITING_APPROVAL; Cancelled once the task is anywhere else."""
        status = TaskStatus.RUNNING
        for _ in range(len(AGENT_LIVE) + 1):
            if self.is_stopped():
                raise Cancelled(self.stop_reason or "stopped")
            try:
                await self._rows.update(self.task_id, {"agent_heartbeat_at": utcnow()}, expected_status=status)
                return
            except TransitionConflict as exc:
                status = exc.current.status
                if status not in AGENT_LIVE:
                    self.stop(f"the task is {status.value}")
        raise Cancelled(self.stop_reason or "stopped")

    async def heartbeat(self, interval: float) -> None:
        """Beat every `interval` seconds until stopped; a failed condition stops the run."""
        while not self.is_stopped():
            try:
                await asyncio.wait_for(self.stopped.wait(), interval)
                return
            except TimeoutError:
                pass
            try:
                await self.beat()
            except Cancelled:
                log.info("task left RUNNING; stopping", extra={"reason": self.stop_reason})
                return
            except StoreUnavailable as exc:
                log.warning("heartbeat failed: %s", exc)  # the next beat may get through

"""Watching a task until it ends: its events as lines, and a live stage / turns / cost display on a TTY."""

from __future__ import annotations

import time
from typing import Any, Callable, TextIO

from rich.console import Console
from rich.status import Status

from cli.api import ApiClient
from cli.errors import ApiError, NetworkError
from cli.events import EventCursor, TaskProgress, event_line
from cli.render import print_json_line
from cli.stream import stream_events
from shared.tasks.states import TERMINAL

# After a task row turns terminal, how many more reads wait for its final transition event.
_SETTLE_POLLS = 5


class Watcher:
    """Where progress goes: JSON lines, plain lines, or lines under a spinner with a summary."""

    def __init__(self, console: Console, *, live: bool, json_out: TextIO | None = None):
        self._console = console
        self._live = live
        self._json_out = json_out
        self._status: Status | None = None

    def __enter__(self) -> "Watcher":
        if self._live and self._json_out is None:
            status = self._console.status("waiting for the first events…")
            status.__enter__()
            self._status = status
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._status is not None:
            self._status.__exit__(*exc)

    def event(self, event: dict) -> None:
        if self._json_out is not None:
            print_json_line(self._json_out, event)
        else:
            self._console.print(event_line(event))

    def progress(self, progress: TaskProgress) -> None:
        if self._status is not None:
            self._status.update(progress.summary())

    def note(self, text: str) -> None:
        """A remark about the watching itself, kept out of a JSON event stream."""
        if self._json_out is None:
            self._console.print(f"[dim]{text}[/]")


def follow_task(api: ApiClient, task_id: str, watcher: Watcher, *, interval: float = 1.0,
                sleep: Callable[[float], None] = time.sleep, stream: bool = True) -> dict:
    """Show new events until the task reaches a terminal state; the final task.

    The live stream first; if it cannot be opened or keeps dropping, polling takes over from where
    the stream stopped (no event shown twice).
    """
    cursor, progress = EventCursor(api, task_id), TaskProgress()
    with watcher:
        if stream:
            try:
                return _follow_stream(api, task_id, watcher, cursor, progress)
            except (ApiError, NetworkError) as exc:
                watcher.note(f"live stream unavailable ({exc.message}); polling every {interval:g}s")
        return _follow_polls(api, task_id, watcher, cursor, progress, interval, sleep)


def _follow_stream(api: ApiClient, task_id: str, watcher: Watcher, cursor: EventCursor,
                   progress: TaskProgress) -> dict:
    progress.see_task(api.get_task(task_id))
    watcher.progress(progress)
    for event in stream_events(api, task_id):
        cursor.mark_seen(event["event_id"])
        progress.see_event(event)
        watcher.event(event)
        watcher.progress(progress)
    return api.get_task(task_id)


def _follow_polls(api: ApiClient, task_id: str, watcher: Watcher, cursor: EventCursor, progress: TaskProgress,
                  interval: float, sleep: Callable[[float], None]) -> dict:
    ended_seen, settle = False, 0
    while True:
        task = api.get_task(task_id)
        progress.see_task(task)
        for event in cursor.poll():  # read after the task: at least as new
            progress.see_event(event)
            watcher.event(event)
            meta = event.get("metadata") or {}
            ended_seen = ended_seen or (event["event_type"] == "transition" and meta.get("to") in TERMINAL)
        watcher.progress(progress)
        if task["status"] in TERMINAL:
            if ended_seen or settle >= _SETTLE_POLLS:
                return task
            settle += 1
        sleep(min(interval, 0.2) if settle else interval)

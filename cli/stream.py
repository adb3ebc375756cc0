"""Reading a task's live event stream (Server-Sent Events), resuming after a dropped connection."""

from __future__ import annotations

import json
from typing import Iterable, Iterator

from cli.api import ApiClient
from cli.errors import NetworkError
from shared.tasks.states import TERMINAL

# Reconnections after a dropped stream before giving up (the caller then falls back to polling).
_RECONNECTS = 3


def sse_events(lines: Iterable[str]) -> Iterator[dict]:
    """The `data:` payloads of an SSE line sequence, parsed as JSON (comments and hints skipped)."""
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield json.loads("\n".join(data))
            data = []
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    if data:
        yield json.loads("\n".join(data))


def stream_events(api: ApiClient, task_id: str, *, after: str | None = None,
                  read_timeout: float = 45.0) -> Iterator[dict]:
    """Every event of the task after `after`, live, until the stream ends with the task.

    A dropped connection is resumed from the last event received (Last-Event-ID): nothing is lost or
    repeated. NetworkError once reconnecting fails repeatedly; ApiError if the stream is refused.
    """
    failures = 0
    while True:
        try:
            with api.open_event_stream(task_id, last_event_id=after, read_timeout=read_timeout) as resp:
                for event in sse_events(resp.iter_lines()):
                    after, failures = event["event_id"], 0
                    yield event
                    if ends_task(event):
                        return
            raise NetworkError(api.base_url, "the event stream closed before the task ended")
        except NetworkError:
            failures += 1
            if failures > _RECONNECTS:
                raise


def ends_task(event: dict) -> bool:
    """Whether the event is the task's move into a terminal state."""
    return event.get("event_type") == "transition" and (event.get("metadata") or {}).get("to") in TERMINAL

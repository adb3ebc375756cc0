"""The live event stream of a task (Server-Sent Events)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, AsyncIterator

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from services.gateway.deps import Caller, Deps, GatewayDeps
from services.gateway.openapi import AUTHENTICATED, errors, success_headers
from services.gateway.refusals import RateLimited
from services.gateway.routes.tasks import owned_task
from services.gateway.schemas import EventView
from shared.tasks.models import TaskEvent

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])

# How often an idle stream wakes to notice a client that went away.
_WAKE_SECONDS = 1.0
_RECONNECT_MS = 2000

_STREAM_DOC: dict[int | str, dict[str, Any]] = {200: {
    "description": "`text/event-stream`: one message per audit event (`id:` the event id, `data:` the event as "
                   "in the events list), a `: heartbeat` comment when idle; the stream ends after the event "
                   "of the task's terminal transition.",
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
    "headers": success_headers(),
}}


def frame(event: TaskEvent) -> str:
    """One SSE message: the event id, and the event as the events list shows it."""
    return f"id: {event.event_id}\ndata: {EventView.of(event).model_dump_json()}\n\n"


@router.get("/{task_id}/events/stream", response_class=StreamingResponse, summary="Follow a task's audit trail live",
            description="Every event of the task in order, from the first one, or from the one after "
                        "`Last-Event-ID` when a client reconnects; the stream closes after the terminal transition.",
            responses={**errors(*AUTHENTICATED, "RATE_LIMIT_EXCEEDED", "TASK_NOT_FOUND"), **_STREAM_DOC})
async def stream_task_events(task_id: str, request: Request, caller: Caller, d: Deps,
                        last_event_id: Annotated[str | None, Header(max_length=64)] = None) -> StreamingResponse:
    await owned_task(d, task_id, caller)
    if not d.streams.take(caller.user_id):
        raise RateLimited(f"at most {d.settings.stream_max_per_user} open event streams per user: close one "
                          "first", wait=5)
    body = _messages(d, task_id, caller.user_id, (last_event_id or "").strip() or None, request)
    return StreamingResponse(body, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _messages(d: GatewayDeps, task_id: str, user_id: str, after: str | None,
                    request: Request) -> AsyncIterator[str]:
    """The stream's body; whatever ends it (the task, the client, the server) gives its slot back."""
    loop = asyncio.get_running_loop()
    heartbeat = d.settings.stream_heartbeat_seconds
    try:
        async with d.feeds.follow(task_id) as feed:
            yield f"retry: {_RECONNECT_MS}\n\n"
            sent, written_at = 0, loop.time()
            while True:
                while sent < len(feed.events):
                    event, sent = feed.events[sent], sent + 1
                    if after is None or event.event_id > after:
                        yield frame(event)
                        written_at = loop.time()
                if feed.ended:
                    return
                await feed.wait_beyond(sent, min(_WAKE_SECONDS, heartbeat))
                if await request.is_disconnected():
                    return
                if loop.time() - written_at >= heartbeat:
                    yield ": heartbeat\n\n"
                    written_at = loop.time()
    finally:
        d.streams.give_back(user_id)

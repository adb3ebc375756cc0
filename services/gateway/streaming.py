"""Live task streams: one poller per task, shared by every open stream of that task, and a cap per user.

Event ids are ULIDs minted by their writers a moment before the write commits, so an event can land
with an id just below one already read. The poller therefore only hands out events older than a short
settle delay: in that order no later write can slip in before an event already sent, and a client
resuming from its last id loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable

from botocore.exceptions import BotoCoreError, ClientError
from ulid import ULID

from services.gateway.adapters.event_reader import EventReader
from shared.tasks.models import TaskEvent
from shared.tasks.states import TERMINAL

log = logging.getLogger(__name__)
_PAGE = 100


def minted_at(event_id: str) -> float | None:
    """When the event's id was minted (epoch seconds); None for an id that is not a ULID."""
    try:
        return ULID.from_str(event_id).timestamp
    except ValueError:
        return None


def ends_task(event: TaskEvent) -> bool:
    return event.event_type == "transition" and event.metadata.get("to") in TERMINAL


class TaskFeed:
    """A task's trail held in memory, extended by one poller while anyone follows it."""

    def __init__(self, reader: EventReader, task_id: str, *, poll_seconds: float, settle_seconds: float,
                 clock: Callable[[], float] = time.time):
        self._reader = reader
        self.task_id = task_id
        self._poll_seconds = poll_seconds
        self._settle_seconds = settle_seconds
        self._clock = clock
        self.events: list[TaskEvent] = []
        self.ended = False
        self.followers = 0
        self._changed = asyncio.Event()
        self._poller: asyncio.Task | None = None

    def start(self) -> None:
        self._poller = asyncio.create_task(self._run(), name=f"feed-{self.task_id}")

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)

    async def _run(self) -> None:
        while not self.ended:
            try:
                await self.poll()
            except (ClientError, BotoCoreError) as exc:
                log.warning("event stream poll failed; retrying", extra={"task_id": self.task_id, "error": str(exc)})
            if not self.ended:
                await asyncio.sleep(self._poll_seconds)

    async def poll(self) -> None:
        """Read every settled event not held yet, page by page."""
        while not self.ended:
            after = self.events[-1].event_id if self.events else None
            batch = await self._reader.events_after(self.task_id, after, limit=_PAGE)
            settled_before = self._clock() - self._settle_seconds
            fresh = []
            for event in batch:
                at = minted_at(event.event_id)
                if at is not None and at > settled_before:
                    break
                fresh.append(event)
                if ends_task(event):
                    self.ended = True
                    break
            if fresh or self.ended:
                self.events.extend(fresh)
                self._notify()
            if len(fresh) < len(batch) or len(batch) < _PAGE:
                return

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_beyond(self, count: int, timeout: float) -> bool:
        """Until more than `count` events are held or the feed ended; False if `timeout` passed first."""
        if len(self.events) > count or self.ended:
            return True
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except TimeoutError:
            return False
        return True


class FeedHub:
    """The feeds of the tasks being streamed by this process, one per task."""

    def __init__(self, reader: EventReader, *, poll_seconds: float, settle_seconds: float):
        self._reader = reader
        self._poll_seconds = poll_seconds
        self._settle_seconds = settle_seconds
        self._feeds: dict[str, TaskFeed] = {}

    @property
    def active_feeds(self) -> int:
        return len(self._feeds)

    @asynccontextmanager
    async def follow(self, task_id: str) -> AsyncIterator[TaskFeed]:
        """The task's feed, started by its first follower and stopped with its last."""
        feed = self._feeds.get(task_id)
        if feed is None:
            feed = self._feeds[task_id] = TaskFeed(self._reader, task_id, poll_seconds=self._poll_seconds,
                                                   settle_seconds=self._settle_seconds)
            feed.start()
        feed.followers += 1
        try:
            yield feed
        finally:
            feed.followers -= 1
            if feed.followers == 0 and self._feeds.get(task_id) is feed:
                del self._feeds[task_id]
                await feed.stop()


class StreamSlots:
    """How many streams each user has open in this process, up to a cap."""

    def __init__(self, max_per_user: int):
        self._max = max_per_user
        self._open: dict[str, int] = {}

    def take(self, user_id: str) -> bool:
        if self._open.get(user_id, 0) >= self._max:
            return False
        self._open[user_id] = self._open.get(user_id, 0) + 1
        return True

    def give_back(self, user_id: str) -> None:
        left = self._open.get(user_id, 0) - 1
        if left > 0:
            self._open[user_id] = left
        else:
            self._open.pop(user_id, None)

    def open_for(self, user_id: str) -> int:
        return self._open.get(user_id, 0)

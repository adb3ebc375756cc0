"""The reconciler's schedule where EventBridge Scheduler does not run (emulators): a ReconcileTick every interval."""

from __future__ import annotations

import logging
import threading
from typing import Any

from shared.clock import utcnow
from shared.events.bus import bus_entry
from shared.events.models import ReconcileTick

log = logging.getLogger(__name__)


def tick_until(events: Any, bus_name: str, interval: float, stop: threading.Event | None = None) -> None:
    """Put a ReconcileTick on the bus every `interval` seconds until `stop` is set (or forever)."""
    stop = stop or threading.Event()
    while not stop.wait(interval):
        try:
            events.put_events(Entries=[bus_entry(ReconcileTick(tick_at=utcnow()), bus_name)])
        except Exception:  # the emulator restarting (or going down with us) must not end the ticker
            log.warning("could not publish ReconcileTick", exc_info=True)

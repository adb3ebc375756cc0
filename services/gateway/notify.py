"""Publishing the gateway's events after a state change that has already been committed."""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError

from shared.events.bus import EventPublisher
from shared.events.errors import PublishFailed
from shared.events.models import EventDetail

log = logging.getLogger(__name__)


async def announce(bus: EventPublisher, *details: EventDetail) -> bool:
    """Publish; on failure log and carry on. The task row is already written and the reconciler
    repairs a lost event (re-publishes TaskSubmitted, frees slots for QUEUED tasks, and a cancelled
    agent stops at its next heartbeat), so the caller's answer does not depend on the bus."""
    try:
        await bus.publish(*details)
    except (PublishFailed, BotoCoreError, ClientError) as exc:
        log.warning("event not published; the reconciler will repair",
                    extra={"detail_types": [d.detail_type for d in details], "error": str(exc)})
        return False
    return True

"""Deliver an event to a service's handler object the way its queue consumer does."""

from __future__ import annotations

import sys
from typing import Any

from pydantic import BaseModel

from shared.messaging.routing import dispatch


async def handle(service_object: Any, event: BaseModel) -> None:
    """Run the handler the service's routing table (HANDLERS, beside its class) has for this event."""
    table = sys.modules[type(service_object).__module__].HANDLERS
    await dispatch(table, service_object, event)

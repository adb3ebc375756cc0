"""Publishing events to the platform's EventBridge bus, and reading them back from SQS."""

from __future__ import annotations

import json
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ValidationError

from shared.events.errors import MalformedEvent, PublishFailed, UnknownEvent
from shared.events.models import DETAIL_MODELS, EventDetail
from shared.observability.tracing import current_trace_header


class EventPublisher(Protocol):
    async def publish(self, *details: EventDetail) -> None:
        """Put events on the bus; raises PublishFailed if any is refused."""


def bus_entry(detail: EventDetail, bus_name: str) -> dict[str, str]:
    """One PutEvents entry for a detail (the async publisher and the synchronous edges share it)."""
    return {"Source": detail.source, "DetailType": detail.detail_type,
            "Detail": detail.model_dump_json(exclude_none=True), "EventBusName": bus_name}


class EventBridgePublisher:
    """EventPublisher over an aiobotocore EventBridge client."""

    def __init__(self, events_client: Any, bus_name: str):
        self._events = events_client
        self._bus = bus_name

    async def publish(self, *details: EventDetail) -> None:
        header = current_trace_header()
        if header:  # carry the trace inside the event, so the consumer's segment joins it
            details = tuple(d if d.trace_header else d.model_copy(update={"trace_header": header}) for d in details)
        for start in range(0, len(details), 10):
            batch = details[start:start + 10]
            entries = [bus_entry(d, self._bus) for d in batch]
            try:
                resp = await self._events.put_events(Entries=entries)
            except (ClientError, BotoCoreError) as exc:
                raise PublishFailed(f"EventBridge did not answer: {exc}") from exc
            if resp.get("FailedEntryCount"):
                errors = [e.get("ErrorMessage") for e in resp.get("Entries", []) if e.get("ErrorCode")]
                raise PublishFailed(f"EventBridge refused {resp['FailedEntryCount']} event(s): {errors}")


def parse_envelope(body: str) -> BaseModel:
    """The typed detail of an EventBridge envelope delivered through SQS."""
    try:
        envelope = json.loads(body)
        source, detail_type, detail = envelope["source"], envelope["detail-type"], envelope["detail"]
    except (ValueError, KeyError, TypeError) as exc:
        raise MalformedEvent(f"not an EventBridge envelope: {exc}") from exc
    return detail_of(source, detail_type, detail)


def detail_of(source: str, detail_type: str, detail: Any) -> BaseModel:
    """The typed detail for a source and detail-type, from its dict or its JSON text."""
    model = DETAIL_MODELS.get((source, detail_type))
    if model is None:
        raise UnknownEvent(f"unknown event {source}/{detail_type}")
    try:
        return model.model_validate_json(detail) if isinstance(detail, str) else model.model_validate(detail)
    except ValidationError as exc:
        raise MalformedEvent(f"invalid {detail_type}: {exc.error_count()} error(s)") from exc

"""X-Ray tracing: a segment per request and per message, one trace across services via the event detail."""

from __future__ import annotations

import contextvars
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

log = logging.getLogger(__name__)

_state = {"enabled": False}
_entities: contextvars.ContextVar[list | None] = contextvars.ContextVar("xray_entities", default=None)


class _TaskLocal:
    """Stands in for threading.local: the X-Ray entity stack lives in a ContextVar, one per asyncio task."""

    @property
    def entities(self) -> list:
        value = _entities.get()
        if value is None:
            raise AttributeError("entities")
        return value

    @entities.setter
    def entities(self, value: list) -> None:
        _entities.set(value)


def _task_local_context():
    # The SDK's own AsyncContext installs a task factory that breaks on Python 3.11's `context=`
    # argument; a ContextVar gives every asyncio task its own segment stack without one.
    from aws_xray_sdk.core.context import Context

    class TaskLocalContext(Context):
        def __init__(self) -> None:
            super().__init__(context_missing="IGNORE_ERROR")
            self._local = _TaskLocal()

        def clear_trace_entities(self) -> None:
            _entities.set(None)

    return TaskLocalContext()


def configure_tracing(service: str, daemon_address: str | None, *, sample_all: bool = False) -> bool:
    """Turn X-Ray on when a daemon address is configured; otherwise tracing stays a no-op."""
    from aws_xray_sdk import global_sdk_config
    from aws_xray_sdk.core import patch, xray_recorder

    if not daemon_address:
        global_sdk_config.set_sdk_enabled(False)
        _state["enabled"] = False
        return False
    global_sdk_config.set_sdk_enabled(True)
    # Polls and other calls outside a segment are expected: do not warn about each one.
    logging.getLogger("aws_xray_sdk").setLevel(logging.ERROR)
    rules = {"version": 2, "rules": [], "default": {"fixed_target": 1, "rate": 1.0 if sample_all else 0.05}}
    xray_recorder.configure(service=service, daemon_address=daemon_address, context=_task_local_context(),
                            context_missing="IGNORE_ERROR", sampling_rules=rules, plugins=())
    patch(("aiobotocore", "botocore", "httpx"), raise_errors=False)
    _state["enabled"] = True
    log.info("x-ray tracing on", extra={"daemon": daemon_address})
    return True


def current_trace_header() -> str | None:
    """The X-Amzn-Trace-Id of the segment in progress, to carry inside an event's detail."""
    if not _state["enabled"]:
        return None
    from aws_xray_sdk.core import xray_recorder
    from aws_xray_sdk.core.models.trace_header import TraceHeader

    entity = xray_recorder.get_trace_entity()
    if entity is None or not getattr(entity, "trace_id", None):
        return None
    segment = getattr(entity, "parent_segment", entity)
    return TraceHeader(root=segment.trace_id, parent=entity.id, sampled=int(bool(segment.sampled))).to_header_str()


@asynccontextmanager
async def traced(name: str, trace_header: str | None = None, **annotations: str | None) -> AsyncIterator[None]:
    """A segment continuing the trace named in `trace_header` (or a new trace)."""
    if not _state["enabled"]:
        yield
        return
    from aws_xray_sdk.core import xray_recorder
    from aws_xray_sdk.core.models.trace_header import TraceHeader

    header = TraceHeader.from_header_str(trace_header) if trace_header else TraceHeader()
    sampled = header.sampled if header.sampled in (0, 1) else None
    async with xray_recorder.in_segment_async(name, traceid=header.root, parent_id=header.parent,
                                              sampling=sampled) as segment:
        for key, value in annotations.items():
            if value is not None:
                segment.put_annotation(key, str(value))
        yield

"""Metrics in CloudWatch embedded metric format, written as log lines."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, Protocol, TextIO

NAMESPACE = "bgagent"


class MetricsSink(Protocol):
    def count(self, name: str, value: float = 1, **properties: Any) -> None: ...

    def timing(self, name: str, milliseconds: float, **properties: Any) -> None: ...


class EmfMetrics:
    """Writes one EMF JSON document per metric to a stream that CloudWatch Logs ingests."""

    def __init__(self, service: str, stream: TextIO | None = None):
        self._service = service
        self._stream = stream or sys.stdout

    def _emit(self, name: str, value: float, unit: str, properties: dict[str, Any]) -> None:
        doc = {
            "_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [
                {"Namespace": NAMESPACE, "Dimensions": [["Service"]], "Metrics": [{"Name": name, "Unit": unit}]}
            ]},
            "Service": self._service, name: value, **properties,
        }
        self._stream.write(json.dumps(doc, default=str) + "\n")
        self._stream.flush()

    def count(self, name: str, value: float = 1, **properties: Any) -> None:
        self._emit(name, value, "Count", properties)

    def timing(self, name: str, milliseconds: float, **properties: Any) -> None:
        self._emit(name, milliseconds, "Milliseconds", properties)

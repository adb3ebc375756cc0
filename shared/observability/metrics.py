"""Metrics in CloudWatch embedded metric format, through aws-embedded-metrics, written to stdout."""

from __future__ import annotations

from typing import Any, Protocol

from aws_embedded_metrics.config import get_config
from aws_embedded_metrics.logger.metrics_logger_factory import create_metrics_logger

from shared.observability.metric_names import NAMESPACE, SERVICE_DIMENSION


class MetricsSink(Protocol):
    def count(self, name: str, value: float = 1, **properties: Any) -> None: ...

    def timing(self, name: str, milliseconds: float, **properties: Any) -> None: ...

    def value(self, name: str, value: float, unit: str = "None", **properties: Any) -> None: ...


class NullMetrics:
    """A sink that drops everything (tests and tools that do not report)."""

    def count(self, name: str, value: float = 1, **properties: Any) -> None:
        pass

    def timing(self, name: str, milliseconds: float, **properties: Any) -> None:
        pass

    def value(self, name: str, value: float, unit: str = "None", **properties: Any) -> None:
        pass


class EmfMetrics:
    """One EMF document per data point on stdout; CloudWatch Logs turns them into metrics.

    The environment is fixed to "Local" (stdout) so the library never probes instance metadata:
    on ECS the awslogs driver ships stdout, locally the line lands in the service's log file.
    """

    def __init__(self, service: str):
        config = get_config()
        config.environment = "Local"
        config.namespace = NAMESPACE
        config.service_name = service
        self._service = service

    def value(self, name: str, value: float, unit: str = "None", **properties: Any) -> None:
        logger = create_metrics_logger()
        logger.set_namespace(NAMESPACE)
        logger.set_dimensions({SERVICE_DIMENSION: self._service})
        logger.put_metric(name, value, unit)
        for key, prop in properties.items():
            if prop is not None:
                logger.set_property(key, prop)
        logger.flush_sync()

    def count(self, name: str, value: float = 1, **properties: Any) -> None:
        self.value(name, value, "Count", **properties)

    def timing(self, name: str, milliseconds: float, **properties: Any) -> None:
        self.value(name, milliseconds, "Milliseconds", **properties)

"""What every benchmark shares: an embedded stack with loopback doubles, and percentile arithmetic."""

from __future__ import annotations

import os
import platform as host
import statistics
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from tests.support.aws import moto_server, set_test_credentials
from tests.support.platform import Platform, running_platform

REPO_ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(values: list[float]) -> str:
    return (f"n={len(values)} median={statistics.median(values):.1f} p95={percentile(values, 95):.1f} "
            f"min={min(values):.1f} max={max(values):.1f}")


def machine() -> str:
    return f"{host.system()} {host.machine()}, {os.cpu_count()} cores, Python {host.python_version()}"


@contextmanager
def bench_platform(**env: str) -> Iterator[Platform]:
    """The embedded stack on its own moto server, agents replaced by the instant agent unless told otherwise."""
    set_test_credentials()
    defaults = {"BGAGENT_AGENT_MODULE": "bench.instant_agent", "PYTHONPATH": str(REPO_ROOT),
                "BGAGENT_DEFAULT_MAX_CONCURRENCY": "1000", "BGAGENT_CONSUMER_WAIT_SECONDS": "20"}
    with tempfile.TemporaryDirectory() as root, moto_server() as endpoint:
        with running_platform(endpoint, Path(root), **{**defaults, **env}) as p:
            yield p

"""Fault tests: each module starts its own platform with the fault switched on.

BGAGENT_FAULT_SCALE=full runs the issue's full sizes (200 duplicate-delivery tasks, 100 crash tasks,
200 cancellation-race tasks); the default suite runs them scaled down to stay within minutes.
"""

from __future__ import annotations

import os

FULL = os.environ.get("BGAGENT_FAULT_SCALE") == "full"


def size(full: int, quick: int) -> int:
    return full if FULL else quick

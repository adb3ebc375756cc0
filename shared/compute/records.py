"""A process session's record (`<runtime>/sessions/<task>.json`): who is starting it, then its supervisor's pid."""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_record(record: Path, pid: int, task_id: str) -> None:
    """Record the session's supervisor (atomically: a reader sees the old record or the new one)."""
    partial = record.with_name(f".{record.name}.{os.getpid()}")
    partial.write_text(json.dumps({"pid": pid, "task_id": task_id}))
    os.replace(partial, record)


def read_record(record: Path) -> dict:
    """The record's fields; {} while it is being created or when it is unreadable."""
    try:
        data = json.loads(record.read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}

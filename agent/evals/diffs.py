"""An evaluation attempt's outcome: its diff, kept in the artifacts bucket under diffs/ (downloadable)."""

from __future__ import annotations

from typing import Any, Protocol


def diff_key(task_id: str) -> str:
    """Where an attempt's diff is kept."""
    return f"diffs/{task_id}.patch"


class DiffStore(Protocol):
    async def put(self, task_id: str, patch: bytes) -> str:
        """Store the attempt's diff; return its key."""


class S3DiffStore:
    """Diffs in the artifacts bucket (the agent's role may write only there and under trajectories/)."""

    def __init__(self, s3: Any, bucket: str):
        self._s3 = s3
        self._bucket = bucket

    async def put(self, task_id: str, patch: bytes) -> str:
        key = diff_key(task_id)
        await self._s3.put_object(Bucket=self._bucket, Key=key, Body=patch, ContentType="text/x-diff")
        return key

"""Attachment content in the artifacts bucket, under the task it belongs to."""

from __future__ import annotations

import hashlib
from typing import Any, Protocol

from shared.attachments.models import AttachmentRef


def attachment_key(task_id: str, index: int, filename: str) -> str:
    return f"tasks/{task_id}/attachments/{index:02d}-{filename}"


def stored_ref(ref: AttachmentRef, task_id: str, index: int, data: bytes) -> AttachmentRef:
    """The reference once `data` is stored for it."""
    filename = ref.filename or f"attachment-{index}"
    return ref.model_copy(update={"key": attachment_key(task_id, index, filename), "size": len(data),
                                  "sha256": hashlib.sha256(data).hexdigest(), "filename": filename})


class AttachmentStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...


class S3AttachmentStore:
    """AttachmentStore over an aiobotocore S3 client."""

    def __init__(self, s3: Any, bucket: str):
        self._s3 = s3
        self._bucket = bucket

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await self._s3.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType=content_type)

    async def get(self, key: str) -> bytes:
        resp = await self._s3.get_object(Bucket=self._bucket, Key=key)
        async with resp["Body"] as body:
            return await body.read()

    async def delete(self, key: str) -> None:
        await self._s3.delete_object(Bucket=self._bucket, Key=key)

"""Inline and URL attachments of a task request: checked at the edge, stored before the task row exists."""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from shared.attachments.content import checked_content
from shared.attachments.errors import AttachmentRejected
from shared.attachments.models import (
    FILE_TYPES,
    IMAGE_TYPES,
    MAX_ATTACHMENTS,
    MAX_INLINE_BYTES,
    MAX_INLINE_TOTAL,
    AttachmentRef,
)
from shared.attachments.store import AttachmentStore, stored_ref

log = logging.getLogger(__name__)
INVALID = "ATTACHMENT_INVALID"


class AttachmentIn(BaseModel):
    """One attachment as a client sends it: inline base64 `data`, or an https `url` fetched at hydration."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: Literal["image", "file", "url"]
    content_type: str | None = Field(None, max_length=100, description="required for image and file")
    data: str | None = Field(None, description="base64; image and file only; at most 500 KB decoded")
    url: str | None = Field(None, max_length=2048, description="https only; type url only")
    filename: str | None = Field(None, max_length=255, description="no path separators, not starting with '.'")


@dataclass(frozen=True)
class Prepared:
    ref: AttachmentRef
    data: bytes | None  # None for a URL, fetched at hydration


def _filename(name: str | None, index: int) -> str | None:
    if name is None:
        return None
    if not name or "/" in name or "\\" in name or name.startswith(".") or any(ord(c) < 32 for c in name):
        raise AttachmentRejected(INVALID, "a filename has no path separators or control characters and does not "
                                          "start with '.'", index)
    return name


def _prepare_one(item: AttachmentIn, index: int) -> Prepared:
    name = _filename(item.filename, index)
    if item.type == "url":
        if item.data is not None or not item.url:
            raise AttachmentRejected(INVALID, "a url attachment has a url and no data", index)
        parts = urlsplit(item.url)
        if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
            raise AttachmentRejected(INVALID, "a url attachment must be an https URL without credentials", index)
        return Prepared(AttachmentRef(type="url", url=item.url, filename=name), None)
    allowed = IMAGE_TYPES if item.type == "image" else FILE_TYPES
    if item.url is not None or item.data is None or item.content_type not in allowed:
        raise AttachmentRejected(INVALID, f"an {item.type} attachment has base64 data and a content_type among "
                                          f"{', '.join(sorted(allowed))}", index)
    if len(item.data) > (MAX_INLINE_BYTES * 4) // 3 + 4:
        raise AttachmentRejected("ATTACHMENT_TOO_LARGE", f"an inline attachment is at most {MAX_INLINE_BYTES} "
                                                         "bytes once decoded", index)
    try:
        raw = base64.b64decode(item.data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AttachmentRejected("ATTACHMENT_INVALID_CONTENT", "data is not valid base64", index) from exc
    if len(raw) > MAX_INLINE_BYTES:
        raise AttachmentRejected("ATTACHMENT_TOO_LARGE", f"an inline attachment is at most {MAX_INLINE_BYTES} "
                                                         "bytes once decoded", index)
    content = checked_content(raw, item.content_type, index)
    return Prepared(AttachmentRef(type=item.type, content_type=item.content_type, filename=name), content)


def prepare_attachments(items: list[AttachmentIn] | None) -> list[Prepared]:
    """Every attachment checked, or AttachmentRejected for the first that is not acceptable."""
    items = items or []
    if len(items) > MAX_ATTACHMENTS:
        raise AttachmentRejected("ATTACHMENT_LIMIT_EXCEEDED", f"at most {MAX_ATTACHMENTS} attachments per task")
    prepared = [_prepare_one(item, i) for i, item in enumerate(items)]
    if sum(len(p.data or b"") for p in prepared) > MAX_INLINE_TOTAL:
        raise AttachmentRejected("ATTACHMENT_TOO_LARGE", f"inline attachments total at most {MAX_INLINE_TOTAL} "
                                                         "bytes per request")
    return prepared


async def store_attachments(store: AttachmentStore, task_id: str, prepared: list[Prepared]) -> list[AttachmentRef]:
    """Store inline content under the task; URL references are kept for the hydrator to fetch."""
    refs = []
    for index, item in enumerate(prepared):
        if item.data is None:
            refs.append(item.ref)
            continue
        ref = stored_ref(item.ref, task_id, index, item.data)
        await store.put(ref.key or "", item.data, ref.content_type or "application/octet-stream")
        refs.append(ref)
    return refs


async def discard_attachments(store: AttachmentStore, refs: list[AttachmentRef]) -> None:
    """Remove content stored for a task row that was never written (a replayed or failed create)."""
    for ref in refs:
        if ref.key:
            try:
                await store.delete(ref.key)
            except Exception:  # noqa: BLE001 - best effort: the bucket's lifecycle removes what is left
                log.warning("could not remove an orphaned attachment", extra={"key": ref.key})

"""A task's attachments as content blocks of the first user message, and what they cost in tokens."""

from __future__ import annotations

import base64
from typing import Any, Protocol

from shared.attachments.content import pdf_pages
from shared.attachments.models import IMAGE_TYPES, AttachmentRef

# The API scales images down to about 1.15 megapixels: at most ~1,600 tokens each (width × height / 750).
IMAGE_TOKENS = 1_600
# A PDF page costs its text plus an image of the page: priced high so the budget errs on the safe side.
PDF_PAGE_TOKENS = 5_000


class AttachmentSource(Protocol):
    async def get(self, key: str) -> bytes: ...


def _block(ref: AttachmentRef, data: bytes) -> dict[str, Any]:
    ct = ref.content_type or "application/octet-stream"
    if ct in IMAGE_TYPES:
        return {"type": "image", "source": {"type": "base64", "media_type": ct,
                                            "data": base64.b64encode(data).decode()}}
    title = ref.filename or "attachment"
    if ct == "application/pdf":
        return {"type": "document", "title": title, "source": {
            "type": "base64", "media_type": ct, "data": base64.b64encode(data).decode()}}
    return {"type": "document", "title": title,
            "source": {"type": "text", "media_type": "text/plain", "data": data.decode("utf-8")}}


async def attachment_blocks(store: AttachmentSource | None, refs: list[AttachmentRef]) -> list[dict[str, Any]]:
    """One image or document block per stored attachment, in the order they were given."""
    if store is None:
        return []
    blocks = []
    for ref in refs:
        if ref.key:
            blocks.append(_block(ref, await store.get(ref.key)))
    return blocks


def estimated_tokens(block: dict[str, Any]) -> int | None:
    """A safe upper estimate of the tokens of an image or base64 document block; None for other blocks."""
    source = block.get("source") or {}
    if block.get("type") == "image" and source.get("type") == "base64":
        return IMAGE_TOKENS
    if block.get("type") == "document" and source.get("type") == "base64":
        return PDF_PAGE_TOKENS * pdf_pages(base64.b64decode(source.get("data", "")))
    return None

"""Checking attachment content against its declared type: magic bytes for binaries, strict UTF-8 for text."""

from __future__ import annotations

import json
import re

from shared.attachments.errors import AttachmentRejected
from shared.attachments.models import IMAGE_TYPES, MAX_PDF_PAGES, TEXT_TYPES
from shared.observability.redaction import redact

INVALID = "ATTACHMENT_INVALID_CONTENT"
_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def _image_type(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def pdf_pages(data: bytes) -> int:
    """Pages of a PDF, counted from its page objects (at least one)."""
    return max(1, len(_PAGE.findall(data)))


def _check_pdf(data: bytes, index: int | None) -> None:
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-2048:]:
        raise AttachmentRejected(INVALID, "the content is not a complete PDF file", index)
    if b"/Encrypt" in data:
        raise AttachmentRejected(INVALID, "encrypted PDFs cannot be read by the model", index)
    if pdf_pages(data) > MAX_PDF_PAGES:
        raise AttachmentRejected(INVALID, f"PDFs of more than {MAX_PDF_PAGES} pages cannot be read by the model", index)


def _normalised_text(data: bytes, content_type: str, index: int | None) -> bytes:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AttachmentRejected(INVALID, f"{content_type} content must be UTF-8 text", index) from exc
    if "\x00" in text:
        raise AttachmentRejected(INVALID, f"{content_type} content must not contain NUL bytes", index)
    if content_type == "application/json":
        try:
            json.loads(text)
        except ValueError as exc:
            raise AttachmentRejected(INVALID, f"the content is not valid JSON: {exc}", index) from exc
    # Text reaches the model, the trajectory and perhaps a PR: secrets are masked before it is stored.
    return redact(text).encode("utf-8")


def checked_content(data: bytes, content_type: str, index: int | None = None) -> bytes:
    """The bytes to store for content declared as `content_type`: images and PDFs as given once their
    magic bytes match, text re-encoded as clean UTF-8; AttachmentRejected otherwise."""
    if content_type in IMAGE_TYPES:
        found = _image_type(data)
        if found != content_type:
            raise AttachmentRejected(
                INVALID, f"declared {content_type} but the content is {found or 'not an image of a supported type'}",
                index)
        return data
    if content_type == "application/pdf":
        _check_pdf(data, index)
        return data
    if content_type in TEXT_TYPES:
        return _normalised_text(data, content_type, index)
    raise AttachmentRejected(INVALID, f"content type {content_type} is not accepted", index)

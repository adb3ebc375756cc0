"""Attachment limits and the reference a task keeps to each stored attachment."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

MAX_ATTACHMENTS = 10
MAX_INLINE_BYTES = 500 * 1024  # decoded, per inline attachment
MAX_INLINE_TOTAL = 3 * 1024 * 1024  # decoded, per request
MAX_URL_BYTES = 10 * 1024 * 1024
URL_FETCH_TIMEOUT = 10.0
MAX_PDF_PAGES = 100  # the model takes PDFs of at most 100 pages

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
TEXT_TYPES = frozenset({"text/plain", "text/markdown", "text/csv", "application/json"})
FILE_TYPES = TEXT_TYPES | {"application/pdf"}

Kind = Literal["image", "file", "url"]


class AttachmentRef(BaseModel):
    """One attachment of a task: stored content (key) or, until hydration fetches it, a URL."""

    model_config = ConfigDict(extra="ignore")

    type: Kind
    content_type: str | None = None
    filename: str | None = None
    key: str | None = None  # in the artifacts bucket, under tasks/<task_id>/attachments/
    size: int | None = None
    sha256: str | None = None
    url: str | None = None

    @property
    def stored(self) -> bool:
        return self.key is not None

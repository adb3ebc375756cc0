"""`submit --attach`: a file on disk (inline, base64) or an https URL (fetched by the platform)."""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path

from cli.errors import UsageError
from shared.attachments.models import MAX_INLINE_BYTES

_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
          ".webp": "image/webp", ".txt": "text/plain", ".log": "text/plain", ".md": "text/markdown",
          ".markdown": "text/markdown", ".csv": "text/csv", ".json": "application/json", ".pdf": "application/pdf"}


def attachment(spec: str) -> dict:
    """The API's attachment object for one --attach value."""
    if spec.startswith(("https://", "http://")):
        return {"type": "url", "url": spec}
    path = Path(spec)
    content_type = _TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    if content_type is None or content_type not in _TYPES.values():
        raise UsageError(f"cannot attach {spec}: only png, jpeg, gif, webp, txt, md, csv, json and pdf files")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {spec}: {exc.strerror}") from exc
    if len(data) > MAX_INLINE_BYTES:
        raise UsageError(f"cannot attach {spec}: {len(data)} bytes, at most {MAX_INLINE_BYTES} per file")
    kind = "image" if content_type.startswith("image/") else "file"
    return {"type": kind, "content_type": content_type, "data": base64.b64encode(data).decode(),
            "filename": path.name.lstrip(".") or "attachment"}

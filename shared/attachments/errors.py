"""Why an attachment was refused; `code` is the API's error code for it."""

from __future__ import annotations


class AttachmentRejected(Exception):
    """An attachment that is not what it says, too large, too many, or badly named."""

    def __init__(self, code: str, message: str, index: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.index = index


class AttachmentFetchFailed(Exception):
    """A URL attachment could not be fetched within the rules (https, public address, time and size)."""

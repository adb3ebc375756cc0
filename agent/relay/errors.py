"""Errors of the model relay."""

from __future__ import annotations


class UpstreamUnreachable(Exception):
    """The provider could not be reached, or its reply broke off (the client gets a retryable 502)."""

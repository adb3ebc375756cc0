"""The one error a store raises when AWS itself fails (as opposed to a condition it checked)."""

from __future__ import annotations


class StoreUnavailable(Exception):
    """The data store did not answer usefully (throttled, unreachable, or a conflict that kept recurring)."""

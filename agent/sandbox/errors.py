"""Errors of the sandbox."""

from __future__ import annotations

from agent.errors import AgentError


class SandboxUnavailable(AgentError):
    """No sandbox could be made on this host; the task must not run uncontained."""

    code = "SANDBOX_UNAVAILABLE"


class QuotaUnavailable(AgentError):
    """The workspace's capped filesystem could not be made or unmounted; the watchdog stands in."""

    code = "WORKSPACE_QUOTA_UNAVAILABLE"


class BadMessage(Exception):
    """Bytes through the egress proxy that are not one unambiguous HTTP/1.1 or TLS message: the connection ends."""

"""Errors of the web control panel; the panel's routes turn them into HTML pages."""

from __future__ import annotations


class SignInRequired(Exception):
    """No valid session cookie: the page asks the user to open a fresh `bgagent ui` link."""


class LoginLinkRejected(Exception):
    """A login code that is unknown, expired or used already."""


class CsrfRejected(Exception):
    """A state-changing form without this session's CSRF token."""

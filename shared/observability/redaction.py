"""Removing secrets from any text before it leaves a process."""

from __future__ import annotations

import re
import threading

MASK = "[REDACTED]"

# Shapes of credentials we never want to print, whoever holds them.
_PATTERNS = [
    re.compile(r"gh[pousr]_[A-Za-z0-9]{20,}"),
    re.compile(r"github_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"sk-ant-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"),
    re.compile(r"(?i)(aws_secret_access_key|secret_access_key)(\s*[=:]\s*)[\"']?[A-Za-z0-9/+=]{30,}"),
    re.compile(r"(?i)(authorization:\s*(?:bearer|token|basic)\s+)[A-Za-z0-9._~+/=\-]{8,}"),
    re.compile(r"(?i)(x-api-key:\s*)[A-Za-z0-9._\-]{8,}"),
    re.compile(r"(https?://)[^/\s:@]+:[^/\s@]+@"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
]

_lock = threading.Lock()
_known: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret value this process holds, so that it is masked wherever it appears."""
    if value and len(value) >= 6:
        with _lock:
            _known.add(value)


def _mask_match(match: re.Match[str]) -> str:
    groups = [g for g in match.groups() if g is not None]
    if match.re.pattern.startswith("(https?://)"):
        return f"{match.group(1)}{MASK}@"
    if len(groups) >= 2 and match.re.pattern.startswith("(?i)(aws_secret"):
        return f"{groups[0]}{groups[1]}{MASK}"
    if groups and match.re.pattern.startswith("(?i)("):
        return f"{groups[0]}{MASK}"
    return MASK


def redact(text: str) -> str:
    """The text with every known secret and every credential-shaped string masked."""
    if not text:
        return text
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(_mask_match, text)
    return text


def redact_value(value: object) -> object:
    """Redact every string inside a JSON-like value."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(v) for v in value]
    return value

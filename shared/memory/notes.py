"""What repository memory may hold: the platform's own outcome facts and short, redacted learnings.

Memory outlives the task that wrote it, so text an attacker put in an issue must not travel through
it into every later prompt: episodes are built from facts the platform measured, never the task's
text, and learnings are cut to one short line.
"""

from __future__ import annotations

import re

from shared.observability.redaction import redact

LEARNING_MAX_CHARS = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def episode_text(status: str, *, commits: int | None, files_changed: int | None, tests_passed: bool | None,
                 error_code: str | None) -> str:
    """An episode as the platform saw it: status, how much changed, how the tests went."""
    parts = [f"status {status}"]
    if commits is not None:
        parts.append(f"{commits} commit(s)")
    if files_changed is not None:
        parts.append(f"{files_changed} file(s) changed")
    parts.append({True: "tests passed", False: "tests failed", None: "tests not run"}[tests_passed])
    if error_code:
        parts.append(f"error {error_code}")
    return "; ".join(parts)


def bounded_learning(text: str) -> str:
    """One line of at most LEARNING_MAX_CHARS characters, secrets redacted."""
    line = " ".join(_CONTROL.sub(" ", text).split())
    return redact(line)[:LEARNING_MAX_CHARS]

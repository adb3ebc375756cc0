"""A held-back command as the person deciding reads it: all of it, with nothing invisible."""

from __future__ import annotations

import re
import unicodedata

SHOWN_MAX_CHARS = 4_000  # past this the middle is cut out, with a marker giving the full length
_TAIL_CHARS = 1_000  # the end stays visible: that is where padding pushes what matters
_SPACE_RUN = re.compile(r" {3,}")


def _visible(char: str) -> str:
    if char == "\n":
        return "⏎"
    if char == "\t":
        return "⇥"
    if char == " ":
        return char
    if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Zs"):
        return f"⟨U+{ord(char):04X}⟩"  # control, format (bidi overrides, zero-width) and unusual spaces
    return char


def shown_command(text: str, *, limit: int = SHOWN_MAX_CHARS) -> str:
    """`text` on one line: newlines as ⏎, tabs as ⇥, runs of spaces as ␠×N, invisible characters as ⟨U+XXXX⟩;
    past `limit` characters its head and tail around `… [truncated: N characters in all] …`."""
    if len(text) > limit:
        tail = min(_TAIL_CHARS, limit // 4)
        marker = f" … [truncated: {len(text):,} characters in all] … "
        return shown_command(text[:limit - tail], limit=limit) + marker + shown_command(text[-tail:], limit=limit)
    spaced = _SPACE_RUN.sub(lambda m: f"␠×{len(m.group())}", text)
    return "".join(_visible(c) for c in spaced)


def shown_request(kind: str, rule: str, command: str) -> str:
    """One line naming what a request holds back: `command (rule installs): pip install …`."""
    return f"{kind} (rule {rule}): {shown_command(command)}"

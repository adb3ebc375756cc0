"""A held-back command as the person deciding reads it: all of it, with nothing invisible."""

from __future__ import annotations

import re
import unicodedata

SHOWN_MAX_CHARS = 4_000  # past this the middle is cut out, with a marker giving the full length
EVENT_COMMAND_CHARS = 2_000  # an approval.requested event carries this much of the command, cut visibly
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
    pieces = _pieces(text)
    if sum(map(len, pieces)) <= limit:
        return "".join(pieces)
    tail = min(_TAIL_CHARS, limit // 4)
    head, end = _fit(pieces, limit - tail), _fit(pieces[::-1], tail)[::-1]
    return f"{''.join(head)} … [truncated: {len(text):,} characters in all] … {''.join(end)}"


def _pieces(text: str) -> list[str]:
    """Each character made visible, a run of spaces as one piece (so a cut never splits `␠×200` into `␠×2`)."""
    pieces: list[str] = []
    at = 0
    for run in _SPACE_RUN.finditer(text):
        pieces += [_visible(c) for c in text[at:run.start()]] + [f"␠×{len(run.group())}"]
        at = run.end()
    return pieces + [_visible(c) for c in text[at:]]


def _fit(pieces: list[str], room: int) -> list[str]:
    """The leading pieces that fit in `room` characters."""
    kept, used = [], 0
    for piece in pieces:
        if used + len(piece) > room:
            break
        kept.append(piece)
        used += len(piece)
    return kept


def clipped(text: str, limit: int = EVENT_COMMAND_CHARS) -> str:
    """Raw `text` cut to about `limit` characters for a record of bounded size (an event), keeping its tail and
    saying how long it was: a cut is never silent."""
    if len(text) <= limit:
        return text
    tail = limit // 4
    return f"{text[:limit - tail]} … [truncated: {len(text):,} characters in all] … {text[-tail:]}"


def shown_request(kind: str, rule: str, command: str, *, limit: int = SHOWN_MAX_CHARS) -> str:
    """One line naming what a request holds back: `command (rule installs): pip install …`."""
    return f"{kind} (rule {rule}): {shown_command(command, limit=limit)}"

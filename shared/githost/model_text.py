"""Model-written text for a git host's pages (PR bodies, comments, reviews), rendered as text.

Whatever the model wrote is data: HTML is escaped, images and links to hosts other than the repository's
become inline code (nothing is fetched when the page is viewed, nothing is one click away), and closing
keywords aimed at any issue but the task's own are disarmed. Code the model quoted stays code, under
fences this module writes itself, so nothing inside can close them early.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_INFO = re.compile(r"^[\w+.#-]*$")
_TICKS = re.compile(r"`+")
# Every character that starts HTML, an entity, code, a fence, a link or a reference, and the escape itself.
_PROSE_ESCAPES = str.maketrans({"\\": "\\\\", "`": "\\`", "~": "\\~", "[": "\\[", "]": "\\]",
                                "&": "&amp;", "<": "&lt;", ">": "&gt;"})
_URL = r"(?:(?:https?|ftp)://|www\.)[^\s<>()\[\]`\"']+"
_REF = r"#\d+|GH-\d+|[A-Za-z0-9][\w.-]*/[\w.-]+#\d+|https?://[^\s<>()\[\]`\"']+/issues/\d+"
_KEYWORD = r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\b:?"
_PLAIN_CLOSING = re.compile(rf"({_KEYWORD}\s+)(?={_REF})", re.IGNORECASE)
_TOKENS = re.compile(
    rf"(?P<closing>{_KEYWORD}\s+)(?P<ref>{_REF})"
    r"|(?P<image>!\[[^\[\]\n]*\]\([^()\n]*\))"
    r"|(?P<link>\[(?P<text>[^\[\]\n]*)\]\(\s*(?P<dest>[^()\s<>`]*)(?:\s+\"[^\"\n]*\")?\s*\))"
    rf"|(?P<url>{_URL})",
    re.IGNORECASE)
_ISSUE_PATH = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/issues/(?P<n>\d+)/?$")


@dataclass(frozen=True)
class _Scope:
    """What the text may point at: the repository's own host, and its own issue for closing keywords."""

    repo: str
    host: str | None
    issue: int | None

    def allows(self, url: str) -> bool:
        parts = urlsplit(url if "://" in url else f"https://{url}")
        return (self.host is not None and parts.scheme in ("http", "https") and not parts.username
                and (parts.hostname or "").lower() == self.host)

    def owns(self, ref: str) -> bool:
        """Whether a closing reference names the task's own issue."""
        if self.issue is None:
            return False
        if ref.startswith("#") or ref[:3].upper() == "GH-":
            return int(ref.lstrip("#GHgh-")) == self.issue
        if "://" in ref:
            found = _ISSUE_PATH.match(urlsplit(ref).path) if self.allows(ref) else None
            repo, number = (found["repo"], found["n"]) if found else ("", "0")
        else:
            repo, _, number = ref.partition("#")
        return repo.lower() == self.repo.lower() and int(number) == self.issue


def render_model_text(text: str, *, repo: str, web_url: str | None, issue: int | None = None) -> str:
    """The model's text as safe markdown; `web_url` is any URL of the repository's host (None: no links)."""
    host = urlsplit(web_url).hostname if web_url and "://" in web_url else None
    scope = _Scope(repo, host.lower() if host else None, issue)
    parts = []
    for info, chunk in _blocks(text):
        parts.append(_prose_with_spans(chunk, scope) if info is None else code_block(chunk, info))
    return "\n".join(parts)


def plain_model_text(text: str) -> str:
    """The model's text where the host reads it unrendered (a commit message): no closing keyword stays next to
    a reference, so merging never closes an issue the model named (the PR body closes the task's own)."""
    return _PLAIN_CLOSING.sub(r"\1issue ", text)


def code_block(content: str, info: str = "") -> str:
    """A fenced block that only its own closing fence ends (longer than any backtick run inside)."""
    fence = "`" * max(3, _longest_ticks(content) + 1)
    return f"{fence}{info if _INFO.match(info) else ''}\n{content}\n{fence}"


def code_span(content: str) -> str:
    """Inline code holding `content` literally (on one line: a span cannot cross a paragraph)."""
    flat = " ".join(content.splitlines())
    ticks = "`" * (_longest_ticks(flat) + 1)
    pad = " " if flat.startswith(("`", " ")) or flat.endswith(("`", " ")) or not flat else ""
    return f"{ticks}{pad}{flat}{pad}{ticks}"


def _longest_ticks(text: str) -> int:
    return max((len(m) for m in _TICKS.findall(text)), default=0)


def _blocks(text: str) -> list[tuple[str | None, str]]:
    """(info string, code) of fenced blocks (an unclosed fence runs to the end), (None, prose) between."""
    pieces: list[tuple[str | None, str]] = []
    prose: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None or (opening[1][0] == "`" and "`" in opening[2]):
            prose.append(lines[i])
            i += 1
            continue
        if prose:
            pieces.append((None, "\n".join(prose)))
            prose = []
        fence, body, i = opening[1], [], i + 1
        while i < len(lines):
            closing = _FENCE.match(lines[i])
            i += 1
            if closing and closing[1][0] == fence[0] and len(closing[1]) >= len(fence) and not closing[2].strip():
                break
            body.append(lines[i - 1])
        pieces.append((opening[2].strip(), "\n".join(body)))
    if prose:
        pieces.append((None, "\n".join(prose)))
    return pieces


def _prose_with_spans(text: str, scope: _Scope) -> str:
    """Inline code spans kept as code (rewritten with our own delimiters); the rest rendered as text."""
    out, start, pos = [], 0, 0
    while (run := _TICKS.search(text, pos)) is not None:
        closing = re.compile(rf"(?<!`){run[0]}(?!`)").search(text, run.end())
        if closing is None:
            pos = run.end()
            continue
        out += [_prose(text[start:run.start()], scope), code_span(text[run.end():closing.start()])]
        start = pos = closing.end()
    out.append(_prose(text[start:], scope))
    return "".join(out)


def _prose(text: str, scope: _Scope) -> str:
    out, start = [], 0
    for m in _TOKENS.finditer(text):
        out.append(text[start:m.start()].translate(_PROSE_ESCAPES))
        out.append(_token(m, scope))
        start = m.end()
    out.append(text[start:].translate(_PROSE_ESCAPES))
    return "".join(out)


def _token(m: re.Match[str], scope: _Scope) -> str:
    if m["closing"]:
        ref = m["ref"]
        shown = ref.replace("&", "&amp;") if scope.owns(ref) else code_span(ref)
        return m["closing"].translate(_PROSE_ESCAPES) + shown
    if m["link"] and scope.allows(m["dest"]):
        return f"[{_prose(m['text'], scope)}]({m['dest'].replace('&', '&amp;')})"
    if m["url"] and scope.allows(m["url"]):
        return m["url"].replace("&", "&amp;")
    return code_span(m[0])

"""Reading GitHub's pull request shapes into the platform's models."""

from __future__ import annotations

from typing import Any

from shared.githost.models import CheckRun, IssueComment, PullFile, PullRequest, Review, ReviewComment

_FAILED = {"failure", "timed_out", "cancelled", "action_required", "startup_failure"}


def _login(data: dict) -> str:
    return (data.get("user") or {}).get("login", "unknown")


def pull(data: dict) -> PullRequest:
    head = data.get("head") or {}
    return PullRequest(
        number=data["number"], url=data.get("html_url") or data.get("url", ""), head=head["ref"],
        base=data["base"]["ref"], state=data.get("state", "open"), title=data.get("title") or "",
        body=data.get("body") or "", merged=bool(data.get("merged") or data.get("merged_at")),
        head_repo=(head.get("repo") or {}).get("full_name"), head_sha=head.get("sha"),
        author=(data.get("user") or {}).get("login"),
    )


def files(items: list[Any]) -> list[PullFile]:
    return [PullFile(path=f["filename"], status=f.get("status") or "modified", additions=f.get("additions") or 0,
                     deletions=f.get("deletions") or 0, patch=f.get("patch") or "") for f in items]


def review_comments(items: list[Any]) -> list[ReviewComment]:
    return [ReviewComment(author=_login(c), body=c.get("body") or "", path=c.get("path") or "",
                          line=c.get("line") or c.get("original_line"), created_at=c.get("created_at"))
            for c in items]


def reviews(items: list[Any]) -> list[Review]:
    return [Review(author=_login(r), state=r.get("state") or "COMMENTED", body=r.get("body") or "",
                   submitted_at=r.get("submitted_at")) for r in items]


def comments(items: list[Any]) -> list[IssueComment]:
    return [IssueComment(author=_login(c), body=c.get("body") or "", created_at=c.get("created_at"))
            for c in items]


def failing_checks(data: dict) -> list[CheckRun]:
    return [CheckRun(name=r.get("name") or "check", conclusion=r.get("conclusion"),
                     summary=((r.get("output") or {}).get("summary") or "")[:2_000])
            for r in data.get("check_runs") or [] if r.get("conclusion") in _FAILED]

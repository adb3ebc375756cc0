"""What the platform reads from and writes to a git host."""

from __future__ import annotations

from pydantic import BaseModel


class RepoInfo(BaseModel):
    full_name: str
    clone_url: str
    default_branch: str = "main"
    html_url: str | None = None


class IssueComment(BaseModel):
    author: str
    body: str
    created_at: str | None = None


class Issue(BaseModel):
    number: int
    title: str
    body: str = ""
    labels: list[str] = []
    comments: list[IssueComment] = []
    html_url: str | None = None


class PullRequest(BaseModel):
    number: int
    url: str
    head: str
    base: str
    state: str = "open"
    title: str = ""
    body: str = ""
    merged: bool = False
    head_repo: str | None = None  # the repository holding the head branch: another one means a fork
    head_sha: str | None = None
    author: str | None = None


class PullFile(BaseModel):
    path: str
    status: str = "modified"
    additions: int = 0
    deletions: int = 0
    patch: str = ""


class ReviewComment(BaseModel):
    """A comment on one line of a pull request's diff."""

    author: str
    body: str
    path: str
    line: int | None = None
    created_at: str | None = None


class Review(BaseModel):
    author: str
    state: str
    body: str = ""
    submitted_at: str | None = None


class CheckRun(BaseModel):
    name: str
    conclusion: str | None = None
    summary: str = ""


class PullContext(BaseModel):
    """What a pull request says about itself: enough for the agent to iterate on it or review it."""

    pull: PullRequest
    files: list[PullFile] = []
    review_comments: list[ReviewComment] = []
    reviews: list[Review] = []
    comments: list[IssueComment] = []
    failing_checks: list[CheckRun] = []


class PostedComment(BaseModel):
    """A comment on an issue or pull request conversation."""

    id: int
    url: str = ""
    body: str = ""


class DraftComment(BaseModel):
    """An inline comment of a review about to be submitted."""

    path: str
    line: int
    body: str


class PostedReview(BaseModel):
    id: int
    url: str = ""
    comment_count: int = 0

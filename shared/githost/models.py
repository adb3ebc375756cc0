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

"""The GitHost interface: only the calls the platform makes."""

from __future__ import annotations

from typing import Protocol

from shared.githost.models import Issue, PullRequest, RepoInfo


class GitHost(Protocol):
    async def get_repository(self, repo: str) -> RepoInfo: ...

    async def get_issue(self, repo: str, number: int, *, max_comments: int = 300) -> Issue: ...

    async def find_pull(self, repo: str, head: str) -> PullRequest | None:
        """The newest pull request from branch `head`, open or not."""

    async def create_pull(self, repo: str, *, head: str, base: str, title: str, body: str) -> PullRequest: ...

    async def update_pull(self, repo: str, number: int, *, title: str, body: str) -> PullRequest: ...

    async def commits_ahead(self, repo: str, *, base: str, head: str) -> int | None:
        """How many commits `head` has that `base` lacks; None when `head` does not exist."""

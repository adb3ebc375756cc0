"""The GitHost interface: only the calls the platform makes."""

from __future__ import annotations

from typing import Protocol

from shared.githost.models import DraftComment, Issue, PostedComment, PostedReview, PullContext, PullRequest, RepoInfo


class GitHost(Protocol):
    async def get_repository(self, repo: str) -> RepoInfo: ...

    async def get_issue(self, repo: str, number: int, *, max_comments: int = 300) -> Issue: ...

    async def find_pull(self, repo: str, head: str) -> PullRequest | None:
        """The newest pull request from branch `head`, open or not."""

    async def create_pull(self, repo: str, *, head: str, base: str, title: str, body: str) -> PullRequest: ...

    async def update_pull(self, repo: str, number: int, *, title: str, body: str) -> PullRequest: ...

    async def commits_ahead(self, repo: str, *, base: str, head: str) -> int | None:
        """How many commits `head` has that `base` lacks; None when `head` does not exist."""

    async def has_commit(self, repo: str, sha: str) -> bool:
        """Whether the repository holds the commit; GitHostError when the host cannot tell now."""

    async def get_pull(self, repo: str, number: int) -> PullRequest: ...

    async def pull_context(self, repo: str, number: int, *, max_items: int = 100) -> PullContext:
        """The pull request with its files, review comments, reviews, conversation and failing checks."""

    async def find_comment(self, repo: str, number: int, marker: str) -> PostedComment | None:
        """The conversation comment of issue or PR `number` whose body holds `marker`."""

    async def create_comment(self, repo: str, number: int, body: str) -> PostedComment: ...

    async def update_comment(self, repo: str, comment_id: int, body: str) -> PostedComment: ...

    async def find_review(self, repo: str, number: int, marker: str) -> PostedReview | None: ...

    async def create_review(self, repo: str, number: int, *, body: str, comments: list[DraftComment],
                            commit_id: str | None) -> PostedReview:
        """Submit a COMMENT review (never APPROVE, never left pending) with inline comments."""

    async def permission(self, repo: str, user: str) -> str:
        """The user's permission on the repository: admin, maintain, write, triage, read or none."""

"""Choosing the git host of each call from the repository's configuration."""

from __future__ import annotations

import time

from shared.githost.models import DraftComment, Issue, PostedComment, PostedReview, PullContext, PullRequest, RepoInfo
from shared.githost.protocol import GitHost
from shared.repos.store import RepoStore


class GitHostRouter:
    """A GitHost that sends each call to GitHub or to the local host, as the repo's row says."""

    def __init__(self, repos: RepoStore, github: GitHost, local: GitHost, *, cache_seconds: float = 60.0):
        self._repos = repos
        self._github = github
        self._local = local
        self._cache_seconds = cache_seconds
        self._hosts: dict[str, tuple[float, GitHost]] = {}  # a repo's host rarely changes: read it once a minute

    async def aclose(self) -> None:
        for host in (self._github, self._local):
            close = getattr(host, "aclose", None)
            if close is not None:
                await close()

    async def _host(self, repo: str) -> GitHost:
        cached = self._hosts.get(repo)
        if cached and time.monotonic() - cached[0] < self._cache_seconds:
            return cached[1]
        config = await self._repos.get(repo)
        host = self._local if config is not None and config.git_host == "local" else self._github
        self._hosts[repo] = (time.monotonic(), host)
        return host

    async def get_repository(self, repo: str) -> RepoInfo:
        return await (await self._host(repo)).get_repository(repo)

    async def get_issue(self, repo: str, number: int, *, max_comments: int = 300) -> Issue:
        return await (await self._host(repo)).get_issue(repo, number, max_comments=max_comments)

    async def find_pull(self, repo: str, head: str) -> PullRequest | None:
        return await (await self._host(repo)).find_pull(repo, head)

    async def create_pull(self, repo: str, *, head: str, base: str, title: str, body: str) -> PullRequest:
        return await (await self._host(repo)).create_pull(repo, head=head, base=base, title=title, body=body)

    async def update_pull(self, repo: str, number: int, *, title: str, body: str) -> PullRequest:
        return await (await self._host(repo)).update_pull(repo, number, title=title, body=body)

    async def commits_ahead(self, repo: str, *, base: str, head: str) -> int | None:
        return await (await self._host(repo)).commits_ahead(repo, base=base, head=head)

    async def has_commit(self, repo: str, sha: str) -> bool:
        return await (await self._host(repo)).has_commit(repo, sha)

    async def get_pull(self, repo: str, number: int) -> PullRequest:
        return await (await self._host(repo)).get_pull(repo, number)

    async def pull_context(self, repo: str, number: int, *, max_items: int = 100) -> PullContext:
        return await (await self._host(repo)).pull_context(repo, number, max_items=max_items)

    async def find_comment(self, repo: str, number: int, marker: str) -> PostedComment | None:
        return await (await self._host(repo)).find_comment(repo, number, marker)

    async def create_comment(self, repo: str, number: int, body: str) -> PostedComment:
        return await (await self._host(repo)).create_comment(repo, number, body)

    async def update_comment(self, repo: str, comment_id: int, body: str) -> PostedComment:
        return await (await self._host(repo)).update_comment(repo, comment_id, body)

    async def find_review(self, repo: str, number: int, marker: str) -> PostedReview | None:
        return await (await self._host(repo)).find_review(repo, number, marker)

    async def create_review(self, repo: str, number: int, *, body: str, comments: list[DraftComment],
                            commit_id: str | None) -> PostedReview:
        return await (await self._host(repo)).create_review(repo, number, body=body, comments=comments,
                                                            commit_id=commit_id)

    async def permission(self, repo: str, user: str) -> str:
        return await (await self._host(repo)).permission(repo, user)

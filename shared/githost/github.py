"""GitHost over GitHub's REST v3 API (github.com, GitHub Enterprise, or a test double)."""

from __future__ import annotations

from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from shared.githost import github_pulls as shapes
from shared.githost.errors import (
    GitHostAuthError,
    GitHostError,
    GitHostNotFound,
    GitHostRejected,
    GitHostUnavailable,
)
from shared.githost.models import (
    DraftComment,
    Issue,
    IssueComment,
    PostedComment,
    PostedReview,
    PullContext,
    PullRequest,
    RepoInfo,
)
from shared.tls import client_context

_pull = shapes.pull


class GitHubHost:
    """GitHost speaking GitHub's REST API with httpx; transient failures retried with backoff."""

    def __init__(self, client: httpx.AsyncClient, *, attempts: int = 4, max_wait: float = 8.0):
        self._http = client
        self._attempts = attempts
        self._max_wait = max_wait

    @classmethod
    def build(cls, api_url: str, token: str | None, *, timeout: float = 15.0, **kwargs: Any) -> "GitHubHost":
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
                   "User-Agent": "bgagent"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return cls(httpx.AsyncClient(base_url=api_url.rstrip("/"), headers=headers, timeout=timeout,
                                     verify=client_context()), **kwargs)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(GitHostUnavailable),
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential_jitter(multiplier=0.2, max=self._max_wait, jitter=0.2),
            reraise=True,
        ):
            with attempt:
                return self._check(await self._send(method, path, **kwargs))
        raise AssertionError("unreachable")

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise GitHostUnavailable(f"{method} {path}: {type(exc).__name__}") from exc

    @staticmethod
    def _check(resp: httpx.Response) -> httpx.Response:
        if resp.status_code < 400:
            return resp
        try:
            message = resp.json().get("message", resp.text)
        except ValueError:
            message = resp.text[:200]
        where = f"{resp.request.method} {resp.request.url.path}: {resp.status_code} {message}"
        if resp.status_code == 429 or resp.status_code >= 500:
            raise GitHostUnavailable(where, resp.status_code)
        if resp.status_code == 401:
            raise GitHostAuthError(where, 401)
        if resp.status_code == 403 and resp.headers.get("x-ratelimit-remaining") == "0":
            raise GitHostUnavailable(where, 403)
        if resp.status_code == 404:
            raise GitHostNotFound(where, 404)
        raise GitHostRejected(where, resp.status_code)

    async def get_repository(self, repo: str) -> RepoInfo:
        data = (await self._request("GET", f"/repos/{repo}")).json()
        return RepoInfo(full_name=data["full_name"], clone_url=data["clone_url"],
                        default_branch=data.get("default_branch") or "main", html_url=data.get("html_url"))

    async def get_issue(self, repo: str, number: int, *, max_comments: int = 300) -> Issue:
        data = (await self._request("GET", f"/repos/{repo}/issues/{number}")).json()
        comments: list[IssueComment] = []
        url: str | None = f"/repos/{repo}/issues/{number}/comments"
        params: dict | None = {"per_page": 100}
        while url and len(comments) < max_comments:
            resp = await self._request("GET", url, params=params)
            comments += [IssueComment(author=(c.get("user") or {}).get("login", "unknown"), body=c.get("body") or "",
                                      created_at=c.get("created_at")) for c in resp.json()]
            nxt = resp.links.get("next", {}).get("url")
            url, params = (nxt, None) if nxt else (None, None)
        return Issue(number=data["number"], title=data.get("title") or "", body=data.get("body") or "",
                     labels=[lb["name"] for lb in data.get("labels", []) if isinstance(lb, dict)],
                     comments=comments[:max_comments], html_url=data.get("html_url"))

    async def find_pull(self, repo: str, head: str) -> PullRequest | None:
        owner = repo.split("/")[0]
        resp = await self._request("GET", f"/repos/{repo}/pulls", params={"head": f"{owner}:{head}", "state": "all"})
        pulls = resp.json()
        return _pull(max(pulls, key=lambda p: p["number"])) if pulls else None

    async def create_pull(self, repo: str, *, head: str, base: str, title: str, body: str) -> PullRequest:
        resp = await self._request("POST", f"/repos/{repo}/pulls",
                                   json={"head": head, "base": base, "title": title, "body": body})
        return _pull(resp.json())

    async def update_pull(self, repo: str, number: int, *, title: str, body: str) -> PullRequest:
        resp = await self._request("PATCH", f"/repos/{repo}/pulls/{number}", json={"title": title, "body": body})
        return _pull(resp.json())

    async def commits_ahead(self, repo: str, *, base: str, head: str) -> int | None:
        try:
            data = (await self._request("GET", f"/repos/{repo}/compare/{base}...{head}")).json()
        except GitHostNotFound:
            return None
        return int(data.get("ahead_by", 0))

    async def has_commit(self, repo: str, sha: str) -> bool:
        try:  # comparing the commit with itself: 404 when the repository lacks it
            await self._request("GET", f"/repos/{repo}/compare/{sha}...{sha}")
        except GitHostNotFound:
            return False
        return True

    async def get_pull(self, repo: str, number: int) -> PullRequest:
        return _pull((await self._request("GET", f"/repos/{repo}/pulls/{number}")).json())

    async def _list(self, path: str, limit: int) -> list:
        return (await self._request("GET", path, params={"per_page": min(limit, 100)})).json()[:limit]

    async def pull_context(self, repo: str, number: int, *, max_items: int = 100) -> PullContext:
        pr = await self.get_pull(repo, number)
        base = f"/repos/{repo}/pulls/{number}"
        checks: list = []
        if pr.head_sha:
            try:
                found = (await self._request("GET", f"/repos/{repo}/commits/{pr.head_sha}/check-runs",
                                             params={"per_page": 100})).json()
                checks = shapes.failing_checks(found)
            except GitHostNotFound:
                pass  # hosts without the checks API (older Enterprise) report none
        return PullContext(
            pull=pr, files=shapes.files(await self._list(f"{base}/files", max_items)),
            review_comments=shapes.review_comments(await self._list(f"{base}/comments", max_items)),
            reviews=shapes.reviews(await self._list(f"{base}/reviews", max_items)),
            comments=shapes.comments(await self._list(f"/repos/{repo}/issues/{number}/comments", max_items)),
            failing_checks=checks)

    async def find_comment(self, repo: str, number: int, marker: str) -> PostedComment | None:
        url: str | None = f"/repos/{repo}/issues/{number}/comments"
        params: dict | None = {"per_page": 100}
        while url:
            resp = await self._request("GET", url, params=params)
            for c in resp.json():
                if marker in (c.get("body") or ""):
                    return PostedComment(id=c["id"], url=c.get("html_url") or "", body=c.get("body") or "")
            url, params = resp.links.get("next", {}).get("url"), None
        return None

    async def create_comment(self, repo: str, number: int, body: str) -> PostedComment:
        data = (await self._request("POST", f"/repos/{repo}/issues/{number}/comments", json={"body": body})).json()
        return PostedComment(id=data["id"], url=data.get("html_url") or "", body=data.get("body") or "")

    async def update_comment(self, repo: str, comment_id: int, body: str) -> PostedComment:
        data = (await self._request("PATCH", f"/repos/{repo}/issues/comments/{comment_id}",
                                    json={"body": body})).json()
        return PostedComment(id=data["id"], url=data.get("html_url") or "", body=data.get("body") or "")

    async def find_review(self, repo: str, number: int, marker: str) -> PostedReview | None:
        for r in await self._list(f"/repos/{repo}/pulls/{number}/reviews", 100):
            if marker in (r.get("body") or ""):
                return PostedReview(id=r["id"], url=r.get("html_url") or "")
        return None

    async def create_review(self, repo: str, number: int, *, body: str, comments: list[DraftComment],
                            commit_id: str | None) -> PostedReview:
        payload: dict = {"body": body, "event": "COMMENT",
                         "comments": [{"path": c.path, "line": c.line, "side": "RIGHT", "body": c.body}
                                      for c in comments]}
        if commit_id:
            payload["commit_id"] = commit_id
        data = (await self._request("POST", f"/repos/{repo}/pulls/{number}/reviews", json=payload)).json()
        return PostedReview(id=data["id"], url=data.get("html_url") or "", comment_count=len(comments))

    async def permission(self, repo: str, user: str) -> str:
        try:
            data = (await self._request("GET", f"/repos/{repo}/collaborators/{user}/permission")).json()
        except GitHostNotFound:
            return "none"
        return str(data.get("permission") or "none")


__all__ = ["GitHubHost", "GitHostError"]

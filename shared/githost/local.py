"""The `local` git host: repositories on this machine, pull requests recorded by the platform."""

from __future__ import annotations

import asyncio
import subprocess
from typing import Any

from botocore.exceptions import ClientError

from shared.aws.dynamo import from_item, serialize, to_item, values
from shared.clock import utcnow
from shared.githost.errors import GitHostNotFound, GitHostRejected
from shared.githost.local_threads import LocalThreads, diff_files
from shared.githost.models import DraftComment, Issue, PostedComment, PostedReview, PullContext, PullRequest, RepoInfo
from shared.repos.store import RepoStore

_COUNTER = "~counter"  # sorts after every branch name: the repo's next pull request number


def _git(path: str, *args: str) -> str | None:
    result = subprocess.run(["git", "-C", path, *args], capture_output=True, text=True, timeout=30)
    return result.stdout.strip() if result.returncode == 0 else None


class LocalGitHost:
    """GitHost over local repositories (bare or not) and a Pulls table."""

    def __init__(self, repos: RepoStore, ddb: Any, pulls_table: str):
        self._repos = repos
        self._ddb = ddb
        self._table = pulls_table
        self.threads = LocalThreads(ddb, pulls_table, _COUNTER)

    async def _path(self, repo: str) -> str:
        config = await self._repos.get(repo)
        if config is None or not config.local_path:
            raise GitHostNotFound(f"{repo} is not a local repository", 404)
        return config.local_path

    async def get_repository(self, repo: str) -> RepoInfo:
        path = await self._path(repo)
        head = await asyncio.to_thread(_git, path, "symbolic-ref", "--short", "HEAD")
        if head is None:
            raise GitHostNotFound(f"{path} is not a git repository", 404)
        return RepoInfo(full_name=repo, clone_url=path, default_branch=head)

    async def get_issue(self, repo: str, number: int, *, max_comments: int = 300) -> Issue:
        raise GitHostNotFound(f"local repository {repo} has no issues; describe the task instead", 404)

    async def find_pull(self, repo: str, head: str) -> PullRequest | None:
        resp = await self._ddb.get_item(TableName=self._table, Key={"repo": serialize(repo), "head": serialize(head)},
                                        ConsistentRead=True)
        item = resp.get("Item")
        return PullRequest.model_validate(from_item(item)) if item else None

    async def create_pull(self, repo: str, *, head: str, base: str, title: str, body: str) -> PullRequest:
        if await self.commits_ahead(repo, base=base, head=head) is None:
            raise GitHostRejected(f"branch {head} does not exist in {repo}", 422)
        counter = await self._ddb.update_item(
            TableName=self._table, Key={"repo": serialize(repo), "head": serialize(_COUNTER)},
            UpdateExpression="ADD next_number :one", ExpressionAttributeValues=values({":one": 1}),
            ReturnValues="UPDATED_NEW")
        number = int(counter["Attributes"]["next_number"]["N"])
        pull = PullRequest(number=number, url=f"local://{repo}/pull/{number}", head=head, base=base, title=title,
                           body=body)
        try:
            await self._ddb.put_item(
                TableName=self._table, ConditionExpression="attribute_not_exists(head)",
                Item=to_item({"repo": repo, **pull.model_dump(), "created_at": utcnow(), "updated_at": utcnow()}))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise GitHostRejected(f"a pull request already exists for {head}", 422) from exc
            raise
        return pull

    async def update_pull(self, repo: str, number: int, *, title: str, body: str) -> PullRequest:
        found = [p for p in await self._list(repo) if p.number == number]
        if not found:
            raise GitHostNotFound(f"pull request {number} of {repo}", 404)
        resp = await self._ddb.update_item(
            TableName=self._table, Key={"repo": serialize(repo), "head": serialize(found[0].head)},
            UpdateExpression="SET title = :t, body = :b, updated_at = :u",
            ExpressionAttributeValues=values({":t": title, ":b": body, ":u": utcnow()}), ReturnValues="ALL_NEW")
        return PullRequest.model_validate(from_item(resp["Attributes"]))

    async def _list(self, repo: str) -> list[PullRequest]:
        resp = await self._ddb.query(TableName=self._table, KeyConditionExpression="repo = :r",
                                     ExpressionAttributeValues=values({":r": repo}))
        return [PullRequest.model_validate(from_item(i)) for i in resp.get("Items", []) if "number" in from_item(i)
                and not from_item(i)["head"].startswith("~")]

    async def commits_ahead(self, repo: str, *, base: str, head: str) -> int | None:
        path = await self._path(repo)
        count = await asyncio.to_thread(_git, path, "rev-list", "--count", f"refs/heads/{base}..refs/heads/{head}")
        return int(count) if count is not None else None

    async def has_commit(self, repo: str, sha: str) -> bool:
        path = await self._path(repo)
        return await asyncio.to_thread(_git, path, "cat-file", "-e", f"{sha}^{{commit}}") is not None

    async def get_pull(self, repo: str, number: int) -> PullRequest:
        found = [p for p in await self._list(repo) if p.number == number]
        if not found:
            raise GitHostNotFound(f"pull request {number} of {repo}", 404)
        path = await self._path(repo)
        sha = await asyncio.to_thread(_git, path, "rev-parse", "--verify", "--quiet", f"refs/heads/{found[0].head}")
        return found[0].model_copy(update={"head_repo": repo, "head_sha": sha})

    async def pull_context(self, repo: str, number: int, *, max_items: int = 100) -> PullContext:
        pr = await self.get_pull(repo, number)
        inline, reviews, talk = await self.threads.conversation(repo, number)
        files = await diff_files(await self._path(repo), pr.base, pr.head, limit=max_items)
        return PullContext(pull=pr, files=files, review_comments=inline[-max_items:], reviews=reviews[-max_items:],
                           comments=talk[-max_items:])

    async def find_comment(self, repo: str, number: int, marker: str) -> PostedComment | None:
        item = await self.threads.find(repo, number, "comment", marker)
        return PostedComment(id=item["comment_id"], body=item["body"]) if item else None

    async def create_comment(self, repo: str, number: int, body: str) -> PostedComment:
        await self.get_pull(repo, number)
        return await self.threads.add(repo, number, "comment", body)

    async def update_comment(self, repo: str, comment_id: int, body: str) -> PostedComment:
        return await self.threads.update(repo, comment_id, body)

    async def find_review(self, repo: str, number: int, marker: str) -> PostedReview | None:
        item = await self.threads.find(repo, number, "review", marker)
        return PostedReview(id=item["comment_id"]) if item else None

    async def create_review(self, repo: str, number: int, *, body: str, comments: list[DraftComment],
                            commit_id: str | None) -> PostedReview:
        await self.get_pull(repo, number)
        return await self.threads.review(repo, number, body, comments)

    async def permission(self, repo: str, user: str) -> str:
        return "admin"  # a local repository belongs to whoever runs the platform

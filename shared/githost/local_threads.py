"""Conversation, review comments and reviews of the local git host's recorded pull requests.

They live in the Pulls table beside the pull requests, under sort keys that sort after every branch
name (`~comment#…`), so listing a repository's pull requests never mistakes one for a pull request.
"""

from __future__ import annotations

import asyncio
import subprocess
from typing import Any, Literal

from botocore.exceptions import ClientError

from shared.aws.dynamo import from_item, serialize, to_item, values
from shared.githost.errors import GitHostNotFound
from shared.githost.models import IssueComment, PostedComment, PostedReview, PullFile, Review, ReviewComment
from shared.tasks.models import utcnow

Kind = Literal["comment", "review_comment", "review"]
PREFIX = "~comment#"


def _key(repo: str, comment_id: int) -> dict:
    return {"repo": serialize(repo), "head": serialize(f"{PREFIX}{comment_id:012d}")}


class LocalThreads:
    """Comments of local pull requests, numbered from the repository's counter row."""

    def __init__(self, ddb: Any, table: str, counter_key: str):
        self._ddb = ddb
        self._table = table
        self._counter = counter_key

    async def _next_id(self, repo: str) -> int:
        resp = await self._ddb.update_item(
            TableName=self._table, Key={"repo": serialize(repo), "head": serialize(self._counter)},
            UpdateExpression="ADD next_comment :one", ExpressionAttributeValues=values({":one": 1}),
            ReturnValues="UPDATED_NEW")
        return int(resp["Attributes"]["next_comment"]["N"])

    async def add(self, repo: str, number: int, kind: Kind, body: str, *, author: str = "bgagent",
                  path: str | None = None, line: int | None = None, state: str | None = None,
                  review_id: int | None = None) -> PostedComment:
        comment_id = await self._next_id(repo)
        item = {"repo": repo, "head": f"{PREFIX}{comment_id:012d}", "comment_id": comment_id, "thread": number,
                "kind": kind, "author": author, "body": body, "path": path, "line": line, "state": state,
                "review_id": review_id, "created_at": utcnow()}
        await self._ddb.put_item(TableName=self._table,
                                 Item=to_item({k: v for k, v in item.items() if v is not None}))
        return PostedComment(id=comment_id, url=f"local://{repo}/pull/{number}#comment-{comment_id}", body=body)

    async def items(self, repo: str, number: int, kind: Kind | None = None) -> list[dict]:
        resp = await self._ddb.query(
            TableName=self._table, ConsistentRead=True,
            KeyConditionExpression="repo = :r AND begins_with(head, :p)",
            ExpressionAttributeValues=values({":r": repo, ":p": PREFIX}))
        found = [from_item(i) for i in resp.get("Items", [])]
        return [i for i in found if i.get("thread") == number and (kind is None or i.get("kind") == kind)]

    async def update(self, repo: str, comment_id: int, body: str) -> PostedComment:
        try:
            resp = await self._ddb.update_item(
                TableName=self._table, Key=_key(repo, comment_id), ConditionExpression="attribute_exists(head)",
                UpdateExpression="SET body = :b, updated_at = :u",
                ExpressionAttributeValues=values({":b": body, ":u": utcnow()}), ReturnValues="ALL_NEW")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            raise GitHostNotFound(f"comment {comment_id} of {repo}", 404) from exc
        item = from_item(resp["Attributes"])
        return PostedComment(id=comment_id, url=f"local://{repo}/pull/{item['thread']}#comment-{comment_id}",
                             body=body)

    async def find(self, repo: str, number: int, kind: Kind, marker: str) -> dict | None:
        return next((i for i in await self.items(repo, number, kind) if marker in i.get("body", "")), None)

    async def review(self, repo: str, number: int, body: str, comments: list) -> PostedReview:
        posted = await self.add(repo, number, "review", body, state="COMMENTED")
        for c in comments:
            await self.add(repo, number, "review_comment", c.body, path=c.path, line=c.line, review_id=posted.id)
        return PostedReview(id=posted.id, url=posted.url, comment_count=len(comments))

    async def conversation(self, repo: str, number: int) -> tuple[list, list, list]:
        """(review comments, reviews, conversation comments), oldest first."""
        items = await self.items(repo, number)
        inline = [ReviewComment(author=i["author"], body=i["body"], path=i.get("path", ""), line=i.get("line"),
                                created_at=i["created_at"]) for i in items if i["kind"] == "review_comment"]
        reviews = [Review(author=i["author"], state=i.get("state") or "COMMENTED", body=i["body"],
                          submitted_at=i["created_at"]) for i in items if i["kind"] == "review"]
        talk = [IssueComment(author=i["author"], body=i["body"], created_at=i["created_at"])
                for i in items if i["kind"] == "comment"]
        return inline, reviews, talk


def _git(path: str, *args: str) -> str | None:
    result = subprocess.run(["git", "-C", path, *args], capture_output=True, text=True, timeout=30)
    return result.stdout if result.returncode == 0 else None


async def diff_files(path: str, base: str, head: str, *, limit: int) -> list[PullFile]:
    """The files `head` changes since it left `base`, each with its patch."""
    spec = f"refs/heads/{base}...refs/heads/{head}"
    numstat = await asyncio.to_thread(_git, path, "diff", "--numstat", spec) or ""
    files = []
    for line in numstat.splitlines()[:limit]:
        added, deleted, name = line.split("\t", 2)
        patch = await asyncio.to_thread(_git, path, "diff", spec, "--", name) or ""
        files.append(PullFile(path=name, additions=int(added) if added.isdigit() else 0,
                              deletions=int(deleted) if deleted.isdigit() else 0, patch=patch))
    return files

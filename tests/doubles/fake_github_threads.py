"""The pull request conversation part of the GitHub double: files, review comments, reviews, issue
comments, check runs and collaborator permissions."""

from __future__ import annotations

import copy
import itertools
import subprocess
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

HTML_ROOT = "http://github.local"
_stamps = itertools.count(1)


def _stamp() -> str:
    """Strictly increasing timestamps, so "newest first" is well defined within a test."""
    n = next(_stamps)
    return f"2025-01-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z"


def _diff(git_dir: str, base: str, head: str) -> list[dict[str, Any]]:
    def git(*args: str) -> str:
        cmd = ["git", "-c", "safe.directory=*", f"--git-dir={git_dir}", *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    spec = f"refs/heads/{base}...refs/heads/{head}"
    files = []
    for line in git("diff", "--numstat", spec).splitlines():
        added, deleted, name = line.split("\t", 2)
        patch = git("diff", spec, "--", name).split("@@", 1)
        files.append({"sha": "0" * 40, "filename": name, "status": "modified", "additions": int(added),
                      "deletions": int(deleted), "changes": int(added) + int(deleted),
                      "blob_url": "", "raw_url": "", "contents_url": "",
                      "patch": "@@" + patch[1] if len(patch) > 1 else ""})
    return files


class PullThreads:
    """State and routes of pull request conversations; mixed into FakeGitHub."""

    _lock: Any
    _ids: Any

    def _init_threads(self) -> None:
        self._comments: dict[tuple[str, int], list[dict[str, Any]]] = {}  # PR conversation comments
        self._review_comments: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self._reviews: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self._checks: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._permissions: dict[tuple[str, str], str] = {}

    # -- seeding and introspection --------------------------------------------------

    def add_review_comment(self, full_name: str, number: int, path: str, line: int, body: str,
                           user: str = "reviewer") -> dict[str, Any]:
        """A reviewer's comment on one line of a pull request's diff."""
        comment = {"id": next(self._ids), "path": path, "line": line, "original_line": line, "side": "RIGHT",
                   "body": body, "user": {"login": user}, "created_at": _stamp(), "updated_at": _stamp(),
                   "html_url": f"{HTML_ROOT}/{full_name}/pull/{number}#discussion_r1"}
        with self._lock:
            self._review_comments.setdefault((full_name.lower(), number), []).append(comment)
        return copy.deepcopy(comment)

    def add_check_run(self, full_name: str, sha: str, name: str, conclusion: str, summary: str = "") -> None:
        with self._lock:
            self._checks.setdefault((full_name.lower(), sha), []).append(
                {"id": next(self._ids), "name": name, "status": "completed", "conclusion": conclusion,
                 "head_sha": sha, "output": {"title": name, "summary": summary}})

    def set_permission(self, full_name: str, user: str, permission: str) -> None:
        with self._lock:
            self._permissions[(full_name.lower(), user.lower())] = permission

    def reviews(self, full_name: str, number: int) -> list[dict[str, Any]]:
        """Submitted reviews, each with its inline comments under `comments`."""
        with self._lock:
            return copy.deepcopy(self._reviews.get((full_name.lower(), number), []))

    def conversation(self, full_name: str, number: int) -> list[dict[str, Any]]:
        """Conversation comments of a pull request or issue, oldest first."""
        with self._lock:
            key = (full_name.lower(), number)
            issue = self._issues.get(key)  # type: ignore[attr-defined]
            return copy.deepcopy(issue["comment_list"] if issue else self._comments.get(key, []))

    # -- routes -----------------------------------------------------------------------

    def _thread(self, owner: str, repo: str, number: int) -> list[dict[str, Any]]:
        """The comment list of issue or PR `number` (raises 404 when neither exists)."""
        key = (f"{owner}/{repo}".lower(), number)
        issue = self._issues.get(key)  # type: ignore[attr-defined]
        if issue is not None:
            return issue["comment_list"]
        self._pull(owner, repo, number)  # type: ignore[attr-defined]
        return self._comments.setdefault(key, [])

    def _install_thread_routes(self, app: FastAPI) -> None:  # noqa: C901 - one route table
        @app.get("/repos/{owner}/{repo}/pulls/{number}/files")
        def pull_files(owner: str, repo: str, number: int) -> Any:
            with self._lock:
                data, pr = self._repo(owner, repo), self._pull(owner, repo, number)  # type: ignore[attr-defined]
            return _diff(data["clone_url"].removeprefix("file://"), pr["base"]["ref"], pr["head"]["ref"])

        @app.get("/repos/{owner}/{repo}/pulls/{number}/comments")
        def pull_review_comments(owner: str, repo: str, number: int) -> Any:
            with self._lock:
                self._pull(owner, repo, number)  # type: ignore[attr-defined]
                return copy.deepcopy(self._review_comments.get((f"{owner}/{repo}".lower(), number), []))

        @app.get("/repos/{owner}/{repo}/pulls/{number}/reviews")
        def pull_reviews(owner: str, repo: str, number: int) -> Any:
            with self._lock:
                self._pull(owner, repo, number)  # type: ignore[attr-defined]
                found = copy.deepcopy(self._reviews.get((f"{owner}/{repo}".lower(), number), []))
            return [{k: v for k, v in r.items() if k != "comments"} for r in found]

        @app.post("/repos/{owner}/{repo}/pulls/{number}/reviews")
        async def create_review(request: Request, owner: str, repo: str, number: int) -> Any:
            payload = await request.json()
            if payload.get("event") not in (None, "COMMENT", "APPROVE", "REQUEST_CHANGES"):
                raise HTTPException(422, "invalid event")
            with self._lock:
                pr = self._pull(owner, repo, number)  # type: ignore[attr-defined]
                full = f"{owner}/{repo}".lower()
                review_id = next(self._ids)
                inline = []
                for c in payload.get("comments") or []:
                    inline.append({"id": next(self._ids), "pull_request_review_id": review_id, "path": c["path"],
                                   "line": c.get("line"), "side": c.get("side", "RIGHT"), "body": c["body"],
                                   "user": {"login": "bgagent[bot]"}, "created_at": _stamp(),
                                   "updated_at": _stamp(), "html_url": ""})
                self._review_comments.setdefault((full, number), []).extend(inline)
                review = {"id": review_id, "user": {"login": "bgagent[bot]"}, "body": payload.get("body") or "",
                          "state": "COMMENTED" if payload.get("event") == "COMMENT" else "PENDING",
                          "commit_id": payload.get("commit_id") or pr["head"]["sha"], "submitted_at": _stamp(),
                          "html_url": f"{HTML_ROOT}/{owner}/{repo}/pull/{number}#pullrequestreview-{review_id}",
                          "author_association": "NONE", "comments": inline}
                self._reviews.setdefault((full, number), []).append(review)
                return JSONResponse({k: v for k, v in copy.deepcopy(review).items() if k != "comments"},
                                    status_code=200)

        @app.post("/repos/{owner}/{repo}/issues/{number}/comments", status_code=201)
        async def create_comment(request: Request, owner: str, repo: str, number: int) -> Any:
            payload = await request.json()
            if not isinstance(payload.get("body"), str):
                raise HTTPException(422, "body is required")
            with self._lock:
                comment_id = next(self._ids)
                comment = {"id": comment_id, "body": payload["body"], "user": {"login": "bgagent[bot]"},
                           "created_at": _stamp(), "updated_at": _stamp(), "author_association": "NONE",
                           "html_url": f"{HTML_ROOT}/{owner}/{repo}/issues/{number}#issuecomment-{comment_id}"}
                self._thread(owner, repo, number).append(comment)
                return JSONResponse(copy.deepcopy(comment), status_code=201)

        @app.patch("/repos/{owner}/{repo}/issues/comments/{comment_id}")
        async def update_comment(request: Request, owner: str, repo: str, comment_id: int) -> Any:
            payload = await request.json()
            with self._lock:
                full = f"{owner}/{repo}".lower()
                lists = [i["comment_list"] for k, i in self._issues.items() if k[0] == full]  # type: ignore
                lists += [v for k, v in self._comments.items() if k[0] == full]
                for comment in (c for thread in lists for c in thread):
                    if comment["id"] == comment_id:
                        comment.update(body=payload.get("body") or "", updated_at=_stamp())
                        return copy.deepcopy(comment)
            raise HTTPException(404)

        @app.get("/repos/{owner}/{repo}/commits/{ref}/check-runs")
        def check_runs(owner: str, repo: str, ref: str) -> Any:
            with self._lock:
                self._repo(owner, repo)  # type: ignore[attr-defined]
                runs = copy.deepcopy(self._checks.get((f"{owner}/{repo}".lower(), ref), []))
            return {"total_count": len(runs), "check_runs": runs}

        @app.get("/repos/{owner}/{repo}/collaborators/{user}/permission")
        def permission(owner: str, repo: str, user: str) -> Any:
            with self._lock:
                self._repo(owner, repo)  # type: ignore[attr-defined]
                level = self._permissions.get((f"{owner}/{repo}".lower(), user.lower()), "read")
            return {"permission": level, "role_name": level, "user": {"login": user}}

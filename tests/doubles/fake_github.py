"""In-memory GitHub REST v3 double, backed by local bare git repositories."""

from __future__ import annotations

import copy
import itertools
import json
import subprocess
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from tests.doubles.fake_github_threads import PullThreads
from tests.doubles.server import serve_app

DOCS_URL = "https://docs.github.com/rest"
HTML_ROOT = "http://github.local"
# Comments get deterministic, strictly increasing timestamps so ordering tests are stable.
_COMMENT_EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, **extra, "documentation_url": DOCS_URL}, status_code=status)


def _invalid(*errors: dict[str, str]) -> JSONResponse:
    return _error(422, "Validation Failed", errors=[{"resource": "PullRequest", **e} for e in errors])


async def _json_body(request: Request) -> dict[str, Any] | None:
    try:
        payload = json.loads(await request.body() or b"{}")
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _git(git_dir: str, *args: str) -> str | None:
    """Run git against a bare repository; None when the command fails (missing ref, not a repo)."""
    cmd = ["git", "-c", "safe.directory=*", f"--git-dir={git_dir.removeprefix('file://')}", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return proc.stdout if proc.returncode == 0 else None


def _branch_sha(git_dir: str, branch: str) -> str | None:
    out = _git(git_dir, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")
    return out.strip() if out else None


def _resolve(git_dir: str, ref: str) -> str | None:
    """Resolve a compare ref: a branch first (like GitHub), else any commit-ish such as a sha."""
    ref = ref.split(":", 1)[-1]  # compare accepts `owner:branch`; forks are not modelled
    out = _branch_sha(git_dir, ref) or _git(git_dir, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return out.strip() if out else None


def _int_param(request: Request, name: str, default: int) -> int:
    try:
        return max(1, int(request.query_params.get(name, default)))
    except ValueError:
        return default


def _paginate(request: Request, items: list[Any]) -> JSONResponse:
    """Slice `items` by per_page/page and emit a GitHub-style Link header."""
    per_page = min(_int_param(request, "per_page", 30), 100)
    page = _int_param(request, "page", 1)
    last = max(1, -(-len(items) // per_page))

    def url(n: int) -> str:
        query = {**request.query_params, "per_page": per_page, "page": n}
        return str(request.url.replace(query=urlencode(query)))

    rels = []
    if page < last:
        rels += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
    if page > 1:
        rels += [f'<{url(1)}>; rel="first"', f'<{url(min(page - 1, last))}>; rel="prev"']
    headers = {"Link": ", ".join(rels)} if rels else {}
    return JSONResponse(items[(page - 1) * per_page: page * per_page], headers=headers)


class FakeGitHub(PullThreads):
    """Thread-safe in-memory GitHub REST double; serve it with `serve()` and point httpx at it."""

    def __init__(self, token: str | None = "ghp_faketoken") -> None:
        self.token = token
        # Reentrant: helpers that take the lock are called from locked sections.
        self._lock = threading.RLock()
        self._repos: dict[str, dict[str, Any]] = {}
        self._issues: dict[tuple[str, int], dict[str, Any]] = {}
        self._pulls: dict[str, list[dict[str, Any]]] = {}
        self._requests: list[dict[str, Any]] = []
        self._failures: list[list[Any]] = []  # [remaining, status, path_prefix]
        self._ids = itertools.count(1001)  # next() on a count is atomic under the GIL
        self._init_threads()
        self._app = self._build_app()

    # -- seeding and introspection -------------------------------------------------

    def add_repo(self, full_name: str, clone_url: str, default_branch: str = "main") -> None:
        """Register a repository whose git data lives at `clone_url` (usually a bare repo path)."""
        owner, name = full_name.split("/", 1)
        with self._lock:
            self._repos[full_name.lower()] = {
                "id": next(self._ids), "name": name, "full_name": full_name, "owner": {"login": owner},
                "private": False, "clone_url": clone_url, "html_url": f"{HTML_ROOT}/{full_name}",
                "default_branch": default_branch,
            }
            self._pulls.setdefault(full_name.lower(), [])

    def remove_repo(self, full_name: str) -> None:
        """Forget a repository together with its issues and pull requests."""
        key = full_name.lower()
        with self._lock:
            self._repos.pop(key, None)
            self._pulls.pop(key, None)
            for issue_key in [k for k in self._issues if k[0] == key]:
                del self._issues[issue_key]

    def add_issue(self, full_name: str, number: int, title: str, body: str,
                  labels: Iterable[str] = (), comments: Iterable[str | dict[str, Any]] = ()) -> None:
        """Add an open issue; comments are strings or dicts {body, user} (user: login or {login})."""
        with self._lock:
            repo = self._repos[full_name.lower()]
            rendered = []
            for i, c in enumerate(comments):
                c = {"body": c} if isinstance(c, str) else c
                user = c.get("user", "commenter")
                rendered.append({
                    "id": next(self._ids), "body": c["body"],
                    "user": user if isinstance(user, dict) else {"login": user},
                    "created_at": (_COMMENT_EPOCH + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                })
            self._issues[(full_name.lower(), number)] = {
                "id": next(self._ids), "number": number, "title": title, "body": body, "state": "open",
                "labels": [{"name": label} for label in labels], "user": {"login": "issue-author"},
                "html_url": f"{repo['html_url']}/issues/{number}", "comment_list": rendered,
            }

    def pulls(self, full_name: str) -> list[dict[str, Any]]:
        """Return copies of all pull requests of a repository, oldest first."""
        with self._lock:
            return copy.deepcopy(self._pulls.get(full_name.lower(), []))

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request received so far: {method, path, query, headers, body}."""
        with self._lock:
            return copy.deepcopy(self._requests)

    def fail_next(self, count: int, status: int = 502, path_prefix: str = "") -> None:
        """Answer the next `count` requests under `path_prefix` with `status` (for retry tests)."""
        with self._lock:
            self._failures.append([count, status, path_prefix])

    @property
    def app(self) -> FastAPI:
        """The ASGI application."""
        return self._app

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Serve the fake on loopback and yield its base URL."""
        with serve_app(self._app) as base_url:
            yield base_url

    # -- HTTP plumbing ------------------------------------------------------------------

    def _authorized(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        return self.token is None or (scheme.lower() in ("bearer", "token") and value.strip() == self.token)

    def _take_failure(self, path: str) -> int | None:
        with self._lock:
            for rule in self._failures:
                if rule[0] > 0 and path.startswith(rule[2]):
                    rule[0] -= 1
                    return rule[1]
            return None

    def _repo(self, owner: str, repo: str) -> dict[str, Any]:
        found = self._repos.get(f"{owner}/{repo}".lower())
        if found is None:
            raise HTTPException(404)
        return found

    def _pull(self, owner: str, repo: str, number: int) -> dict[str, Any]:
        self._repo(owner, repo)
        found = [pr for pr in self._pulls[f"{owner}/{repo}".lower()] if pr["number"] == number]
        if not found:
            raise HTTPException(404)
        return found[0]

    def _refresh_head(self, repo: dict[str, Any], pr: dict[str, Any]) -> None:
        # Like GitHub, an open PR's head.sha follows pushes to its branch.
        sha = _branch_sha(repo["clone_url"], pr["head"]["ref"]) if pr["state"] == "open" else None
        if sha:
            with self._lock:
                pr["head"]["sha"] = sha

    def _build_app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def record_auth_fail(request: Request, call_next: Any) -> Any:
            body = (await request.body()).decode("utf-8", errors="replace")
            with self._lock:
                self._requests.append({
                    "method": request.method, "path": request.url.path, "query": request.url.query,
                    "headers": dict(request.headers), "body": body,
                })
            if not self._authorized(request.headers.get("authorization", "")):
                return _error(401, "Bad credentials")
            status = self._take_failure(request.url.path)
            if status is not None:
                return _error(status, HTTPStatus(status).phrase)
            return await call_next(request)

        @app.exception_handler(HTTPException)
        async def not_found(_: Request, exc: HTTPException) -> JSONResponse:
            return _error(exc.status_code, "Not Found" if exc.status_code == 404 else str(exc.detail))

        @app.exception_handler(RequestValidationError)
        async def bad_path(_: Request, __: RequestValidationError) -> JSONResponse:
            # e.g. /issues/abc: GitHub answers 404, not FastAPI's 422 detail list.
            return _error(404, "Not Found")

        @app.get("/repos/{owner}/{repo}")
        def get_repo(owner: str, repo: str) -> Any:
            with self._lock:
                return copy.deepcopy(self._repo(owner, repo))

        def issue(owner: str, repo: str, number: int) -> dict[str, Any]:
            self._repo(owner, repo)
            found = self._issues.get((f"{owner}/{repo}".lower(), number))
            if found is None:
                raise HTTPException(404)
            return found

        @app.get("/repos/{owner}/{repo}/issues/{number}")
        def get_issue(owner: str, repo: str, number: int) -> Any:
            with self._lock:
                data = copy.deepcopy(issue(owner, repo, number))
            data["comments"] = len(data.pop("comment_list"))
            return data

        @app.get("/repos/{owner}/{repo}/issues/{number}/comments")
        def list_comments(request: Request, owner: str, repo: str, number: int) -> Any:
            with self._lock:
                comments = copy.deepcopy(self._thread(owner, repo, number))
            return _paginate(request, comments)

        @app.get("/repos/{owner}/{repo}/pulls")
        def list_pulls(request: Request, owner: str, repo: str) -> Any:
            with self._lock:
                data = self._repo(owner, repo)
                prs = list(self._pulls[data["full_name"].lower()])
            for pr in prs:
                self._refresh_head(data, pr)
            q = request.query_params
            state, head, base = q.get("state", "open"), q.get("head"), q.get("base")
            selected = [
                pr for pr in reversed(prs)  # GitHub's default sort: newest first
                if state in ("all", pr["state"])
                and (head is None or pr["head"]["label"] == (head if ":" in head else f"{owner}:{head}"))
                and (base is None or pr["base"]["ref"] == base)
            ]
            with self._lock:
                # The list holds GitHub's "pull-request-simple": no `merged` (only `merged_at`).
                simple = [{k: v for k, v in pr.items() if k != "merged"} for pr in copy.deepcopy(selected)]
                return _paginate(request, simple)

        @app.post("/repos/{owner}/{repo}/pulls", status_code=201)
        async def create_pull(request: Request, owner: str, repo: str) -> Any:
            with self._lock:
                data = copy.deepcopy(self._repo(owner, repo))
            payload = await _json_body(request)
            if payload is None:
                return _error(400, "Problems parsing JSON")
            missing = [f for f in ("title", "head", "base") if not payload.get(f)]
            if missing:
                return _invalid(*({"field": f, "code": "missing_field"} for f in missing))
            head_owner, _, branch = payload["head"].rpartition(":")
            label = f"{head_owner or data['owner']['login']}:{branch}"
            # git runs outside the lock: it is slow and touches no fake state.
            head_sha = _branch_sha(data["clone_url"], branch)
            base_sha = _branch_sha(data["clone_url"], payload["base"])
            for field, sha in (("head", head_sha), ("base", base_sha)):
                if sha is None:
                    return _invalid({"field": field, "code": "invalid"})
            with self._lock:
                prs = self._pulls[data["full_name"].lower()]
                if any(p["state"] == "open" and p["head"]["label"] == label for p in prs):
                    return _invalid({"code": "custom", "message": f"A pull request already exists for {label}."})
                # Issues and pull requests share one number sequence on GitHub.
                taken = [n for (k, n) in self._issues if k == data["full_name"].lower()]
                number = max(taken + [p["number"] for p in prs] + [0]) + 1
                full, now = data["full_name"], _now()
                pr = {
                    "id": next(self._ids), "number": number,
                    "url": f"{str(request.base_url).rstrip('/')}/repos/{full}/pulls/{number}",
                    "html_url": f"{HTML_ROOT}/{full}/pull/{number}", "state": "open",
                    "title": payload["title"], "body": payload.get("body"),
                    "draft": bool(payload.get("draft", False)), "merged": False,
                    "user": {"login": data["owner"]["login"]},
                    "head": {"ref": branch, "sha": head_sha, "label": label,
                             "repo": {"full_name": full} if not head_owner or head_owner == data["owner"]["login"]
                             else {"full_name": f"{head_owner}/{data['name']}"}},
                    "base": {"ref": payload["base"], "sha": base_sha,
                             "label": f"{data['owner']['login']}:{payload['base']}"},
                    "created_at": now, "updated_at": now, "closed_at": None, "merged_at": None,
                }
                prs.append(pr)
                return JSONResponse(copy.deepcopy(pr), status_code=201)

        @app.get("/repos/{owner}/{repo}/pulls/{number}")
        def get_pull(owner: str, repo: str, number: int) -> Any:
            with self._lock:
                data, pr = self._repo(owner, repo), self._pull(owner, repo, number)
            self._refresh_head(data, pr)
            with self._lock:
                return copy.deepcopy(pr)

        @app.patch("/repos/{owner}/{repo}/pulls/{number}")
        async def update_pull(request: Request, owner: str, repo: str, number: int) -> Any:
            payload = await _json_body(request)
            if payload is None:
                return _error(400, "Problems parsing JSON")
            if payload.get("state", "open") not in ("open", "closed"):
                return _invalid({"field": "state", "code": "invalid"})
            with self._lock:
                pr = self._pull(owner, repo, number)
                pr.update({k: payload[k] for k in ("title", "body", "state") if k in payload})
                pr["updated_at"] = _now()
                pr["closed_at"] = pr["updated_at"] if pr["state"] == "closed" else None
                return copy.deepcopy(pr)

        @app.get("/repos/{owner}/{repo}/compare/{basehead:path}")
        def compare(owner: str, repo: str, basehead: str) -> Any:
            with self._lock:
                git_dir = self._repo(owner, repo)["clone_url"]
            base_ref, sep, head_ref = basehead.partition("...")
            base = _resolve(git_dir, base_ref) if sep else None
            head = _resolve(git_dir, head_ref) if sep else None
            if base is None or head is None:
                raise HTTPException(404)
            ahead = int(_git(git_dir, "rev-list", "--count", f"{base}..{head}") or 0)
            behind = int(_git(git_dir, "rev-list", "--count", f"{head}..{base}") or 0)
            log = _git(git_dir, "log", "--reverse", "--format=%H%x1f%B%x1e", f"{base}..{head}") or ""
            commits = [
                {"sha": sha.strip(), "commit": {"message": msg.strip()}}
                for sha, msg in (entry.split("\x1f", 1) for entry in log.split("\x1e") if "\x1f" in entry)
            ]
            status = ("identical" if not ahead and not behind else "diverged" if ahead and behind
                      else "ahead" if ahead else "behind")
            return {"status": status, "ahead_by": ahead, "behind_by": behind, "total_commits": ahead,
                    "commits": commits}

        @app.get("/repos/{owner}/{repo}/branches/{branch:path}")
        def get_branch(owner: str, repo: str, branch: str) -> Any:
            with self._lock:
                git_dir = self._repo(owner, repo)["clone_url"]
            sha = _branch_sha(git_dir, branch)
            if sha is None:
                raise HTTPException(404)
            return {"name": branch, "commit": {"sha": sha}, "protected": False}

        self._install_thread_routes(app)
        return app

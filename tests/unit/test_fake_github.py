"""Tests of the FakeGitHub double, driven with the real httpx client over loopback."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.doubles import FakeGitHub, serve_app

TOKEN = "ghp_faketoken"
REPO = "acme/widgets"


def _git(cwd: Path, *args: str) -> str:
    cmd = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args]
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A bare repo with `main` (1 commit) and `feature/x` (2 commits ahead of main)."""
    root = tmp_path_factory.mktemp("template")
    bare, work = root / "widgets.git", root / "work"
    subprocess.run(["git", "init", "--bare", "-q", "-b", "main", str(bare)], check=True)
    subprocess.run(["git", "clone", "-q", str(bare), str(work)], check=True, capture_output=True)
    (work / "README.md").write_text("# widgets\n")
    _git(work, "checkout", "-q", "-b", "main")
    _git(work, "add", ".")
    _git(work, "commit", "-q", "-m", "initial commit")
    _git(work, "push", "-q", "origin", "main")
    _git(work, "checkout", "-q", "-b", "feature/x")
    for n in (1, 2):
        (work / f"f{n}.txt").write_text(f"{n}\n")
        _git(work, "add", ".")
        _git(work, "commit", "-q", "-m", f"feature commit {n}")
    _git(work, "push", "-q", "origin", "feature/x")
    return {"path": str(bare), "work": str(work), "main": _git(work, "rev-parse", "main"),
            "feature": _git(work, "rev-parse", "feature/x")}


@pytest.fixture
def bare_repo(template_repo: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """A private copy of the template bare repo, so tests may push to it."""
    copy = tmp_path / "widgets.git"
    shutil.copytree(template_repo["path"], copy)
    return {**template_repo, "path": str(copy)}


@pytest.fixture
def github(bare_repo: dict[str, str]) -> Iterator[tuple[FakeGitHub, httpx.Client]]:
    fake = FakeGitHub()
    fake.add_repo(REPO, bare_repo["path"])
    with fake.serve() as url, httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield fake, client


def test_repo_and_issue(github: tuple[FakeGitHub, httpx.Client], bare_repo: dict[str, str]) -> None:
    fake, client = github
    fake.add_issue(REPO, 7, "Fix it", "Please fix", labels=["bug", "bgagent"], comments=["one", "two"])
    repo = client.get(f"/repos/{REPO}").json()
    assert (repo["full_name"], repo["owner"], repo["clone_url"]) == (REPO, {"login": "acme"}, bare_repo["path"])
    assert repo["default_branch"] == "main" and repo["private"] is False
    issue = client.get(f"/repos/{REPO}/issues/7").json()
    assert issue["number"] == 7 and issue["title"] == "Fix it" and issue["state"] == "open"
    assert [label["name"] for label in issue["labels"]] == ["bug", "bgagent"]
    assert issue["comments"] == 2


def test_unknown_resources_are_github_404s(github: tuple[FakeGitHub, httpx.Client]) -> None:
    fake, client = github
    for path in ("/repos/acme/nope", f"/repos/{REPO}/issues/99", f"/repos/{REPO}/pulls/5", "/nowhere"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["message"] == "Not Found"
    fake.remove_repo(REPO)
    assert client.get(f"/repos/{REPO}").status_code == 404


def test_comments_paginate_with_link_header(github: tuple[FakeGitHub, httpx.Client]) -> None:
    fake, client = github
    comments = [f"comment {i}" for i in range(24)] + [{"body": "from bob", "user": "bob"}]
    fake.add_issue(REPO, 3, "t", "b", comments=comments)
    url: str | None = f"/repos/{REPO}/issues/3/comments?per_page=10"
    pages = []
    while url:
        response = client.get(url)
        pages.append(response.json())
        url = response.links.get("next", {}).get("url")
    assert [len(p) for p in pages] == [10, 10, 5]
    flat = [c for page in pages for c in page]
    assert [c["body"] for c in flat][:2] == ["comment 0", "comment 1"]
    assert flat[-1]["user"] == {"login": "bob"}
    assert [c["created_at"] for c in flat] == sorted({c["created_at"] for c in flat})
    first = client.get(f"/repos/{REPO}/issues/3/comments")
    assert len(first.json()) == 25 and "link" not in first.headers  # default per_page is 30
    link = client.get(f"/repos/{REPO}/issues/3/comments?per_page=10").headers["link"]
    assert 'per_page=10&page=2>; rel="next"' in link and 'page=3>; rel="last"' in link
    fake.add_issue(REPO, 4, "t", "b", comments=[str(i) for i in range(120)])
    capped = client.get(f"/repos/{REPO}/issues/4/comments?per_page=500")
    assert len(capped.json()) == 100 and "page=2" in capped.links["next"]["url"]
    assert [c["body"] for c in client.get(capped.links["next"]["url"]).json()] == [str(i) for i in range(100, 120)]


def test_create_pull_and_duplicate(github: tuple[FakeGitHub, httpx.Client], bare_repo: dict[str, str]) -> None:
    fake, client = github
    fake.add_issue(REPO, 4, "t", "b")
    payload = {"title": "Add feature", "head": "feature/x", "base": "main", "body": "Closes #4", "draft": True}
    created = client.post(f"/repos/{REPO}/pulls", json=payload)
    assert created.status_code == 201
    pr = created.json()
    assert pr["number"] == 5  # issues and PRs share numbering
    assert pr["html_url"] == f"http://github.local/{REPO}/pull/5"
    assert pr["head"] == {"ref": "feature/x", "sha": bare_repo["feature"], "label": "acme:feature/x",
                          "repo": {"full_name": REPO}}
    assert pr["base"]["ref"] == "main" and pr["state"] == "open" and pr["draft"] is True
    duplicate = client.post(f"/repos/{REPO}/pulls", json={**payload, "head": "acme:feature/x"})
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"][0]["message"] == "A pull request already exists for acme:feature/x."
    assert [p["number"] for p in fake.pulls(REPO)] == [5]


def test_create_pull_with_missing_head_branch(github: tuple[FakeGitHub, httpx.Client]) -> None:
    fake, client = github
    response = client.post(f"/repos/{REPO}/pulls", json={"title": "t", "head": "nope", "base": "main"})
    assert response.status_code == 422
    assert response.json()["message"] == "Validation Failed"
    assert response.json()["errors"][0]["field"] == "head"
    assert fake.pulls(REPO) == []


def test_list_filter_and_patch_pulls(github: tuple[FakeGitHub, httpx.Client], bare_repo: dict[str, str]) -> None:
    fake, client = github
    _git(Path(bare_repo["work"]), "push", "-q", bare_repo["path"], "main:other")
    client.post(f"/repos/{REPO}/pulls", json={"title": "A", "head": "feature/x", "base": "main"})
    client.post(f"/repos/{REPO}/pulls", json={"title": "B", "head": "other", "base": "main"})
    by_head = client.get(f"/repos/{REPO}/pulls", params={"head": "acme:feature/x"}).json()
    assert [p["title"] for p in by_head] == ["A"]
    assert client.get(f"/repos/{REPO}/pulls", params={"head": "acme:missing"}).json() == []
    number = by_head[0]["number"]
    patched = client.patch(f"/repos/{REPO}/pulls/{number}", json={"title": "A2", "state": "closed"}).json()
    assert patched["title"] == "A2" and patched["state"] == "closed"
    assert [p["title"] for p in client.get(f"/repos/{REPO}/pulls").json()] == ["B"]
    assert {p["title"] for p in client.get(f"/repos/{REPO}/pulls?state=all").json()} == {"A2", "B"}
    assert client.get(f"/repos/{REPO}/pulls/{number}").json()["title"] == "A2"
    # A closed PR no longer blocks a new one for the same head.
    again = client.post(f"/repos/{REPO}/pulls", json={"title": "A3", "head": "feature/x", "base": "main"})
    assert again.status_code == 201


def test_compare_and_branches(github: tuple[FakeGitHub, httpx.Client], bare_repo: dict[str, str]) -> None:
    _, client = github
    ahead = client.get(f"/repos/{REPO}/compare/main...feature/x").json()
    assert (ahead["status"], ahead["ahead_by"], ahead["behind_by"], ahead["total_commits"]) == ("ahead", 2, 0, 2)
    assert [c["commit"]["message"] for c in ahead["commits"]] == ["feature commit 1", "feature commit 2"]
    assert ahead["commits"][-1]["sha"] == bare_repo["feature"]
    behind = client.get(f"/repos/{REPO}/compare/feature/x...main").json()
    assert (behind["status"], behind["ahead_by"], behind["behind_by"]) == ("behind", 0, 2)
    assert client.get(f"/repos/{REPO}/compare/main...main").json()["status"] == "identical"
    assert client.get(f"/repos/{REPO}/compare/main...ghost").status_code == 404
    branch = client.get(f"/repos/{REPO}/branches/feature/x").json()
    assert branch["name"] == "feature/x" and branch["commit"]["sha"] == bare_repo["feature"]
    assert client.get(f"/repos/{REPO}/branches/ghost").status_code == 404


def test_auth_required(bare_repo: dict[str, str]) -> None:
    fake = FakeGitHub(token="s3cret")
    fake.add_repo(REPO, bare_repo["path"])
    with fake.serve() as url, httpx.Client(base_url=url) as client:
        missing = client.get(f"/repos/{REPO}")
        assert missing.status_code == 401 and missing.json()["message"] == "Bad credentials"
        assert client.get(f"/repos/{REPO}", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get(f"/repos/{REPO}", headers={"Authorization": "token s3cret"}).status_code == 200
        assert client.get(f"/repos/{REPO}", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    open_fake = FakeGitHub(token=None)
    open_fake.add_repo(REPO, bare_repo["path"])
    with open_fake.serve() as url:
        assert httpx.get(f"{url}/repos/{REPO}").status_code == 200


def test_fail_next_and_request_log(github: tuple[FakeGitHub, httpx.Client]) -> None:
    fake, client = github
    fake.fail_next(2, status=503, path_prefix=f"/repos/{REPO}/pulls")
    assert client.get(f"/repos/{REPO}").status_code == 200  # other paths unaffected
    statuses = [client.get(f"/repos/{REPO}/pulls").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    client.post(f"/repos/{REPO}/pulls?x=1", json={"title": "t", "head": "nope", "base": "main"})
    last = fake.requests[-1]
    assert (last["method"], last["path"], last["query"]) == ("POST", f"/repos/{REPO}/pulls", "x=1")
    assert last["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert '"head":"nope"' in last["body"].replace(" ", "")
    assert len(fake.requests) == 5


def test_serve_app_restarts_and_releases_port() -> None:
    fake = FakeGitHub(token=None)
    for _ in range(2):
        with fake.serve() as url:
            assert httpx.get(f"{url}/repos/acme/none").status_code == 404
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/repos/acme/none")
    with serve_app(fake.app) as a, serve_app(fake.app) as b:
        assert a != b and httpx.get(f"{b}/x").json()["message"] == "Not Found"

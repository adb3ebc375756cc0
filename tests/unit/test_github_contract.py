"""The GitHub double and the GitHub client agree with GitHub's own OpenAPI description (@octokit/openapi)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from shared.githost.github import GitHubHost
from shared.githost.models import DraftComment
from tests.doubles import FakeGitHub
from tests.doubles.github_contract import request_errors, response_errors, spec
from tests.support.git import git, make_bare_repo

REPO = "acme/app"


@pytest.fixture
def traffic(tmp_path: Path):
    """Every call the platform makes, from the real client to the double: (requests, responses)."""
    bare = make_bare_repo(tmp_path, "app")
    work = tmp_path / "work"
    git("clone", str(bare), str(work))
    git("checkout", "-b", "feature", cwd=work)
    (work / "a.txt").write_text("x\n")
    git("add", "-A", cwd=work)
    git("commit", "-m", "change", cwd=work)
    git("push", "origin", "feature", cwd=work)
    fake = FakeGitHub(token=None)
    fake.add_repo(REPO, str(bare))
    fake.add_issue(REPO, 1, "Title", "Body", comments=["first"])
    seen: list[tuple[str, str, int, object]] = []

    async def record(response: httpx.Response) -> None:
        await response.aread()
        seen.append((response.request.method, response.request.url.path, response.status_code, response.json()))

    async def exercise(url: str) -> None:
        host = GitHubHost(httpx.AsyncClient(base_url=url, event_hooks={"response": [record]}))
        await host.get_repository(REPO)
        await host.get_issue(REPO, 1)
        pr = await host.create_pull(REPO, head="feature", base="main", title="T", body="B")
        await host.find_pull(REPO, "feature")
        await host.update_pull(REPO, pr.number, title="T2", body="B2")
        await host.commits_ahead(REPO, base="main", head="feature")
        fake.add_review_comment(REPO, pr.number, "a.txt", 1, "rename")
        fake.add_check_run(REPO, (await host.get_pull(REPO, pr.number)).head_sha or "", "ci", "failure", "boom")
        context = await host.pull_context(REPO, pr.number)
        assert context.failing_checks and context.review_comments and context.files
        posted = await host.create_comment(REPO, pr.number, "hello")
        await host.update_comment(REPO, posted.id, "edited")
        assert (await host.find_comment(REPO, pr.number, "edited")).id == posted.id
        await host.create_review(REPO, pr.number, body="review", commit_id=context.pull.head_sha,
                                 comments=[DraftComment(path="a.txt", line=1, body="nit")])
        assert await host.find_review(REPO, pr.number, "review") is not None
        assert await host.permission(REPO, "someone") == "read"
        await host.aclose()

    with fake.serve() as url:
        asyncio.run(exercise(url))
    return fake.requests, seen


def test_every_request_of_the_client_is_a_documented_operation_with_a_valid_body(traffic):
    requests, _ = traffic
    assert len(requests) >= 15
    problems = {f"{r['method']} {r['path']}": request_errors(r["method"], r["path"],
                                                             json.loads(r["body"]) if r["body"] else None)
                for r in requests}
    assert {k: v for k, v in problems.items() if v} == {}


def test_every_response_of_the_double_has_only_documented_well_typed_fields(traffic):
    _, responses = traffic
    problems = {f"{m} {p} {s}": response_errors(m, p, s, body) for m, p, s, body in responses}
    assert {k: v for k, v in problems.items() if v} == {}


def test_the_check_catches_invented_fields_wrong_values_and_unknown_operations():
    assert any("no such field" in e for e in response_errors("GET", "/repos/a/b/pulls/1/reviews", 200,
                                                             [{"id": 1, "invented": True}]))
    assert response_errors("GET", "/repos/a/b/collaborators/u/permission", 200, {"permission": 5})
    assert request_errors("POST", "/repos/a/b/pulls/1/reviews", {"event": "MAYBE"})
    assert request_errors("DELETE", "/repos/a/b", None) == ["DELETE /repos/a/b is not a documented operation"]
    assert spec()["info"]["description"].startswith("Trimmed")

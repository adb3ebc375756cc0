"""What every GitHost promises about pull requests, their comments and reviews: GitHub's REST API (against
the GitHub double) and the local host (against the emulator) alike."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from shared.aws.clients import AwsClients
from shared.githost.errors import GitHostNotFound
from shared.githost.github import GitHubHost
from shared.githost.local import LocalGitHost
from shared.githost.models import DraftComment
from shared.repos.models import RepoConfig
from shared.repos.store import DynamoRepoStore
from tests.doubles import FakeGitHub
from tests.support.git import git, make_bare_repo

BRANCH = "bgagent/t/feature"


def _repo_with_branch(root: Path) -> Path:
    """A working copy whose `main` has README.md and whose BRANCH adds a.txt."""
    bare = make_bare_repo(root, "app")
    work = root / "work"
    git("clone", str(bare), str(work))
    git("checkout", "-b", BRANCH, cwd=work)
    (work / "a.txt").write_text("one\ntwo\n")
    git("add", "-A", cwd=work)
    git("commit", "-m", "add a", cwd=work)
    git("push", "origin", BRANCH, cwd=work)
    git("checkout", "main", cwd=work)
    return work


@pytest.fixture(params=["github", "local"])
async def host(request, tmp_path):
    repo = f"acme/c{uuid.uuid4().hex[:6]}"
    work = _repo_with_branch(tmp_path)
    if request.param == "github":
        fake = FakeGitHub(token=None)
        fake.add_repo(repo, str(work / ".git"))
        with fake.serve() as url:
            github = GitHubHost.build(url, None)
            yield repo, github
            await github.aclose()
        return
    stack = request.getfixturevalue("stack")
    async with AwsClients(stack.settings) as clients:
        ddb = await clients.client("dynamodb")
        repos = DynamoRepoStore(ddb, stack.names.repos_table)
        await repos.put(RepoConfig(repo=repo, git_host="local", local_path=str(work)))
        yield repo, LocalGitHost(repos, ddb, stack.names.pulls_table)


async def test_a_pull_request_reads_back_with_its_branch_and_files(host):
    repo, git_host = host
    created = await git_host.create_pull(repo, head=BRANCH, base="main", title="T", body="B")
    pr = await git_host.get_pull(repo, created.number)
    assert (pr.head, pr.base, pr.state, pr.merged, pr.head_repo) == (BRANCH, "main", "open", False, repo)
    assert pr.head_sha
    context = await git_host.pull_context(repo, created.number)
    assert [f.path for f in context.files] == ["a.txt"] and "+two" in context.files[0].patch
    with pytest.raises(GitHostNotFound):
        await git_host.get_pull(repo, created.number + 50)


async def test_a_comment_is_found_by_its_marker_and_edited_in_place(host):
    repo, git_host = host
    number = (await git_host.create_pull(repo, head=BRANCH, base="main", title="T", body="B")).number
    posted = await git_host.create_comment(repo, number, "queued <!-- m1 -->")
    assert (await git_host.find_comment(repo, number, "<!-- m1 -->")).id == posted.id
    await git_host.update_comment(repo, posted.id, "done <!-- m1 -->")
    found = await git_host.find_comment(repo, number, "<!-- m1 -->")
    assert found.id == posted.id and found.body.startswith("done")
    assert await git_host.find_comment(repo, number, "<!-- m2 -->") is None
    assert [c.body for c in (await git_host.pull_context(repo, number)).comments] == ["done <!-- m1 -->"]


async def test_a_review_carries_its_inline_comments_and_is_found_again(host):
    repo, git_host = host
    number = (await git_host.create_pull(repo, head=BRANCH, base="main", title="T", body="B")).number
    assert await git_host.find_review(repo, number, "<!-- r1 -->") is None
    review = await git_host.create_review(repo, number, body="Fine <!-- r1 -->", commit_id=None,
                                          comments=[DraftComment(path="a.txt", line=2, body="nit")])
    assert review.comment_count == 1 and (await git_host.find_review(repo, number, "<!-- r1 -->")).id == review.id
    context = await git_host.pull_context(repo, number)
    assert [(c.path, c.line, c.body) for c in context.review_comments] == [("a.txt", 2, "nit")]
    assert [r.body for r in context.reviews] == ["Fine <!-- r1 -->"]

"""The local git host: local repositories and platform-recorded pull requests."""

from __future__ import annotations

import pytest

from shared.aws.clients import AwsClients
from shared.githost.errors import GitHostNotFound, GitHostRejected
from shared.githost.factory import build_git_host
from shared.repos.models import RepoConfig
from shared.repos.store import DynamoRepoStore
from shared.settings import GitHubSettings
from tests.support.git import git, make_bare_repo

pytestmark = pytest.mark.integration


@pytest.fixture
async def host(stack, tmp_path):
    bare = make_bare_repo(tmp_path, "local")
    work = tmp_path / "work"
    git("clone", str(bare), str(work))
    git("checkout", "-b", "feature", cwd=work)
    (work / "x.txt").write_text("x\n")
    git("add", "-A", cwd=work)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-m", "x", cwd=work)
    git("push", "origin", "feature", cwd=work)
    async with AwsClients(stack.settings) as clients:
        ddb = await clients.client("dynamodb")
        repos = DynamoRepoStore(ddb, stack.names.repos_table)
        await repos.put(RepoConfig(repo="me/local", git_host="local", local_path=str(bare)))
        yield build_git_host(GitHubSettings(github_api_url="http://127.0.0.1:9"), ddb, stack.names), bare


async def test_repository_commits_and_pull_requests(host):
    git_host, bare = host
    info = await git_host.get_repository("me/local")
    assert (info.clone_url, info.default_branch) == (str(bare), "main")
    assert await git_host.commits_ahead("me/local", base="main", head="feature") == 1
    assert await git_host.commits_ahead("me/local", base="main", head="missing") is None
    assert await git_host.find_pull("me/local", "feature") is None
    pr = await git_host.create_pull("me/local", head="feature", base="main", title="T", body="B")
    assert pr.number == 1 and pr.url == "local://me/local/pull/1"
    with pytest.raises(GitHostRejected):
        await git_host.create_pull("me/local", head="feature", base="main", title="T", body="B")
    with pytest.raises(GitHostRejected):
        await git_host.create_pull("me/local", head="missing", base="main", title="T", body="B")
    updated = await git_host.update_pull("me/local", 1, title="T2", body="B2")
    assert (updated.title, updated.body) == ("T2", "B2")
    assert (await git_host.find_pull("me/local", "feature")).title == "T2"


async def test_local_repositories_have_no_issues(host):
    git_host, _ = host
    with pytest.raises(GitHostNotFound):
        await git_host.get_issue("me/local", 1)

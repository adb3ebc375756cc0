"""The GitHost contract, for GitHub's REST client (against the fake GitHub), the local host and the fake."""

from __future__ import annotations

import pytest

from shared.aws.clients import AwsClients
from shared.githost.errors import GitHostNotFound
from shared.githost.github import GitHubHost
from shared.githost.local import LocalGitHost
from shared.repos.models import RepoConfig
from shared.repos.store import DynamoRepoStore
from tests.doubles.fake_github import FakeGitHub
from tests.fakes.collaborators import FakeGitHost
from tests.support.git import git, make_bare_repo

REPO = "acme/app"


def _repo_with_a_feature_branch(tmp_path):
    """A bare repository whose `feature` branch is one commit ahead of `main`."""
    bare = make_bare_repo(tmp_path, "app")
    work = tmp_path / "work"
    git("clone", str(bare), str(work))
    git("checkout", "-b", "feature", cwd=work)
    (work / "x.txt").write_text("x\n")
    git("add", "-A", cwd=work)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-m", "x", cwd=work)
    git("push", "origin", "feature", cwd=work)
    return bare


@pytest.fixture(params=["fake", "github", "local"])
async def host(request, tmp_path):
    bare = _repo_with_a_feature_branch(tmp_path)
    if request.param == "fake":
        fake = FakeGitHost()
        fake.add_repo(REPO)
        fake.ahead[(REPO, "feature")] = 1
        fake.commits[REPO] = {git("rev-parse", "feature", cwd=bare).strip()}
        yield fake
    elif request.param == "github":
        github = FakeGitHub(token="ghp_contract")
        github.add_repo(REPO, str(bare))
        with github.serve() as url:
            client = GitHubHost.build(url, "ghp_contract")
            yield client
            await client.aclose()
    else:
        stack = request.getfixturevalue("stack")
        async with AwsClients(stack.settings) as clients:
            ddb = await clients.client("dynamodb")
            await DynamoRepoStore(ddb, stack.names.repos_table).put(
                RepoConfig(repo=REPO, git_host="local", local_path=str(bare)))
            yield LocalGitHost(DynamoRepoStore(ddb, stack.names.repos_table), ddb, stack.names.pulls_table)


async def test_a_repository_and_how_far_a_branch_is_ahead(host):
    info = await host.get_repository(REPO)
    assert info.default_branch == "main"
    assert await host.commits_ahead(REPO, base="main", head="feature") == 1
    assert await host.commits_ahead(REPO, base="main", head="no-such-branch") is None
    with pytest.raises(GitHostNotFound):
        await host.get_repository("acme/missing")


async def test_whether_a_repository_holds_a_commit(host, tmp_path):
    sha = git("rev-parse", "feature", cwd=tmp_path / "app.git").strip()
    assert await host.has_commit(REPO, sha) and await host.has_commit(REPO, sha[:12])
    assert not await host.has_commit(REPO, "0" * 40)


async def test_a_pull_request_is_found_by_its_branch_and_updated(host):
    assert await host.find_pull(REPO, "feature") is None
    created = await host.create_pull(REPO, head="feature", base="main", title="Fix", body="Body")
    found = await host.find_pull(REPO, "feature")
    assert (found.number, found.head, found.title) == (created.number, "feature", "Fix")
    updated = await host.update_pull(REPO, created.number, title="Fix, again", body="More")
    assert (updated.number, updated.title, updated.body) == (created.number, "Fix, again", "More")
    assert (await host.find_pull(REPO, "feature")).title == "Fix, again"

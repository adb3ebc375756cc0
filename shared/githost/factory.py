"""Building the git host a service uses: GitHub for most repositories, local ones on disk."""

from __future__ import annotations

from typing import Any

from shared.githost.github import GitHubHost
from shared.githost.local import LocalGitHost
from shared.githost.router import GitHostRouter
from shared.repos.store import DynamoRepoStore
from shared.settings import GitHubSettings
from shared.topology.names import ResourceNames


def build_git_host(settings: GitHubSettings, ddb: Any, names: ResourceNames) -> GitHostRouter:
    repos = DynamoRepoStore(ddb, names.repos_table)
    github = GitHubHost.build(settings.github_api_url, settings.github_token, timeout=settings.github_timeout_seconds)
    return GitHostRouter(repos, github, LocalGitHost(repos, ddb, names.pulls_table))

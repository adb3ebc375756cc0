"""Operator actions that write platform tables directly."""

from __future__ import annotations

from shared.aws.clients import AwsClients
from shared.repos.models import RepoConfig
from shared.repos.store import DynamoRepoStore
from shared.settings import PlatformSettings


async def onboard_repo(repo: str, **overrides: object) -> RepoConfig:
    """Create or update a repository's row, keeping fields the call does not set."""
    settings = PlatformSettings()
    async with AwsClients(settings) as clients:
        store = DynamoRepoStore(await clients.client("dynamodb"), settings.names.repos_table)
        existing = await store.get(repo)
        base = existing.model_dump() if existing else {"repo": repo}
        given = {k: v for k, v in overrides.items() if v is not None}
        config = RepoConfig.model_validate({**base, **given, "status": "active"})
        await store.put(config)
        return config

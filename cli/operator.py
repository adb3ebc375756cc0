"""Operator actions that write platform tables directly (Repos, UserConcurrency)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator

from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from pydantic import ValidationError

from cli.errors import CliError, NetworkError, UsageError
from shared.aws.dynamo import serialize, values
from shared.clock import utcnow
from shared.repos.models import RepoConfig
from shared.repos.store import DynamoRepoStore
from shared.topology.names import ResourceNames


@dataclass(frozen=True)
class OperatorTarget:
    """The stack whose tables an operator command writes."""

    stack_name: str
    region: str
    endpoint_url: str | None = None
    credentials: dict[str, str] | None = None

    @property
    def names(self) -> ResourceNames:
        return ResourceNames(self.stack_name)

    def describe(self) -> str:
        return f"stack {self.stack_name} ({self.endpoint_url or self.region})"


@asynccontextmanager
async def dynamodb(target: OperatorTarget) -> AsyncIterator[Any]:
    """A DynamoDB client for the target; AWS failures become readable CLI errors."""
    from aiobotocore.session import get_session  # slow to import: only commands that need it pay

    async with get_session().create_client("dynamodb", region_name=target.region, endpoint_url=target.endpoint_url,
                                           **(target.credentials or {})) as ddb:
        try:
            yield ddb
        except EndpointConnectionError as exc:
            raise NetworkError(target.endpoint_url or f"DynamoDB in {target.region}", "connection failed") from exc
        except NoCredentialsError as exc:
            raise CliError("no AWS credentials for the operator command",
                           hint="configure AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID …)") from exc
        except ClientError as exc:
            err = exc.response.get("Error", {})
            hint = ("check the stack name (`bgagent configure --stack-name`) or start the stack"
                    if err.get("Code") == "ResourceNotFoundException" else None)
            raise CliError(f"{target.describe()}: {err.get('Code')}: {err.get('Message')}", hint=hint) from exc


def _repo_config(data: dict) -> RepoConfig:
    try:
        return RepoConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UsageError(f"{'.'.join(map(str, err['loc'])) or 'repo'}: {err['msg']}") from exc


async def onboard_repo(target: OperatorTarget, repo: str, **overrides: object) -> RepoConfig:
    """Create or update a repository's row, keeping fields the call does not set ("" clears one)."""
    async with dynamodb(target) as ddb:
        store = DynamoRepoStore(ddb, target.names.repos_table)
        existing = await store.get(repo)
        base = existing.model_dump() if existing else {"repo": repo}
        given = {k: (None if v == "" else v) for k, v in overrides.items() if v is not None}
        config = _repo_config({**base, **given, "status": "active", "updated_at": utcnow()})
        await store.put(config)
        return config


async def get_repo(target: OperatorTarget, repo: str) -> RepoConfig | None:
    async with dynamodb(target) as ddb:
        return await DynamoRepoStore(ddb, target.names.repos_table).get(repo)


async def list_repos(target: OperatorTarget) -> list[RepoConfig]:
    async with dynamodb(target) as ddb:
        rows = await DynamoRepoStore(ddb, target.names.repos_table).list()
    return sorted(rows, key=lambda r: r.repo.lower())


async def offboard_repo(target: OperatorTarget, repo: str) -> RepoConfig | None:
    """Mark a repository removed (new tasks are refused); None if it was never onboarded."""
    async with dynamodb(target) as ddb:
        store = DynamoRepoStore(ddb, target.names.repos_table)
        existing = await store.get(repo)
        if existing is None:
            return None
        config = existing.model_copy(update={"status": "removed", "updated_at": utcnow()})
        await store.put(config)
        return config


async def set_user_concurrency(target: OperatorTarget, user_id: str, max_concurrency: int) -> dict:
    """Set a user's cap on the UserConcurrency row, leaving the live active_count alone."""
    async with dynamodb(target) as ddb:
        resp = await ddb.update_item(
            TableName=target.names.user_concurrency_table, Key={"user_id": serialize(user_id)},
            UpdateExpression="SET max_concurrency = :m, updated_at = :now",
            ExpressionAttributeValues=values({":m": max_concurrency, ":now": utcnow()}), ReturnValues="ALL_NEW")
    attrs = resp.get("Attributes", {})
    return {"user_id": user_id, "max_concurrency": max_concurrency,
            "active_count": int(attrs["active_count"]["N"]) if "active_count" in attrs else 0}

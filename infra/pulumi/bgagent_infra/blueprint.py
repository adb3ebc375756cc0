"""A repository onboarded as code: its Repos row, validated by the same model the services read it with."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from bgagent_infra.config import BlueprintConfig
from shared.aws.dynamo import to_item
from shared.repos.models import RepoConfig

# Set by the platform when a row is read or changed by an operator; a fixed value here would diff on every up.
_MANAGED_ELSEWHERE = {"created_at", "updated_at", "local_path"}


def repo_item(blueprint: BlueprintConfig) -> dict:
    """The DynamoDB item (attribute-value JSON) of an active GitHub repository with the blueprint's overrides."""
    config = RepoConfig(status="active", git_host="github", **blueprint.model_dump())
    return to_item(config.model_dump(mode="json", exclude=_MANAGED_ELSEWHERE, exclude_none=True))


class Blueprint(pulumi.ComponentResource):
    """Writes one repository's RepoConfig row into the Repos table."""

    def __init__(self, name: str, blueprint: BlueprintConfig, repos_table: aws.dynamodb.Table,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("bgagent:infra:Blueprint", name, None, opts)
        self.item = aws.dynamodb.TableItem(f"{name}-repo", table_name=repos_table.name,
                                           hash_key=repos_table.hash_key, item=json.dumps(repo_item(blueprint)),
                                           opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"repo": blueprint.repo})

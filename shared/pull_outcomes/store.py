"""The PullOutcomes table: one row per bgagent pull request, keyed (repo, pr_number)."""

from __future__ import annotations

from typing import Any, Protocol

from botocore.exceptions import ClientError

from shared.aws.dynamo import from_item, serialize, to_item
from shared.aws.guarded import GuardedClient, error_code
from shared.pull_outcomes.models import PullOpener


class PullOutcomeStore(Protocol):
    async def opener(self, repo: str, pr_number: int) -> PullOpener | None: ...

    async def record_opener(self, opener: PullOpener) -> PullOpener:
        """Record who opened the PR unless a row exists; returns the row that stands (the first one)."""


class DynamoPullOutcomeStore:
    """PullOutcomeStore over the PullOutcomes table."""

    def __init__(self, ddb: Any, table: str):
        self._ddb = GuardedClient(ddb)
        self._table = table

    async def opener(self, repo: str, pr_number: int) -> PullOpener | None:
        resp = await self._ddb.get_item(TableName=self._table, ConsistentRead=True,
                                        Key={"repo": serialize(repo), "pr_number": serialize(pr_number)})
        item = resp.get("Item")
        return PullOpener.model_validate(from_item(item)) if item else None

    async def record_opener(self, opener: PullOpener) -> PullOpener:
        try:
            await self._ddb.put_item(TableName=self._table, Item=to_item(opener.model_dump()),
                                     ConditionExpression="attribute_not_exists(pr_number)",
                                     ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return PullOpener.model_validate(from_item(exc.response["Item"]))
        return opener

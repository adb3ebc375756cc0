"""The Webhooks table: who owns a generic webhook, and whether it is still active."""

from __future__ import annotations

import re
from typing import Any, Literal, Protocol

from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from services.gateway.adapters.errors import WebhookAlreadyRevoked, WebhookNotFound
from shared.aws.dynamo import from_item, serialize, to_item, values
from shared.aws.pagination import InvalidToken, decode_token, encode_token
from shared.clock import new_id, utcnow

# Webhook ids are ULIDs: anything else is not one of ours (and never names another secret).
WEBHOOK_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


class Webhook(BaseModel):
    """A row of the Webhooks table (the secret lives in Secrets Manager)."""

    webhook_id: str = Field(default_factory=new_id)
    user_id: str
    name: str
    status: Literal["active", "revoked"] = "active"
    created_at: str = Field(default_factory=utcnow)
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"


class WebhookStore(Protocol):
    async def create(self, webhook: Webhook) -> Webhook: ...

    async def get(self, webhook_id: str) -> Webhook | None: ...

    async def list_for_user(
        self, user_id: str, *, limit: int = 20, next_token: str | None = None
    ) -> tuple[list[Webhook], str | None]:
        """One page of a user's webhooks; InvalidToken for a token of another listing."""

    async def revoke(self, webhook_id: str) -> Webhook:
        """Mark a webhook revoked: WebhookNotFound, or WebhookAlreadyRevoked carrying the current row."""


class DynamoWebhookStore:
    """WebhookStore over an aiobotocore DynamoDB client (UserIndex serves a user's listing)."""

    def __init__(self, ddb: Any, table: str):
        self._ddb = ddb
        self._table = table

    async def create(self, webhook: Webhook) -> Webhook:
        await self._ddb.put_item(TableName=self._table, Item=to_item(webhook.model_dump()),
                                 ConditionExpression="attribute_not_exists(webhook_id)")
        return webhook

    async def get(self, webhook_id: str) -> Webhook | None:
        resp = await self._ddb.get_item(TableName=self._table, Key={"webhook_id": serialize(webhook_id)},
                                        ConsistentRead=True)
        item = resp.get("Item")
        return Webhook.model_validate(from_item(item)) if item else None

    async def list_for_user(
        self, user_id: str, *, limit: int = 20, next_token: str | None = None
    ) -> tuple[list[Webhook], str | None]:
        args: dict[str, Any] = {
            "TableName": self._table, "IndexName": "UserIndex", "KeyConditionExpression": "user_id = :u",
            "ExpressionAttributeValues": values({":u": user_id}), "Limit": limit,
        }
        start = decode_token(next_token)
        if start is not None:
            well_formed = set(start) == {"webhook_id", "user_id"} and isinstance(start["webhook_id"], dict) and (
                list(start["webhook_id"]) == ["S"] and isinstance(start["webhook_id"]["S"], str))
            if not well_formed or start.get("user_id") != {"S": user_id}:
                raise InvalidToken("next_token belongs to another listing")
            args["ExclusiveStartKey"] = start
        try:
            resp = await self._ddb.query(**args)
        except ClientError as exc:
            if start is not None and exc.response.get("Error", {}).get("Code") == "ValidationException":
                raise InvalidToken("next_token is not valid") from exc
            raise
        rows = [Webhook.model_validate(from_item(i)) for i in resp.get("Items", [])]
        return rows, encode_token(resp.get("LastEvaluatedKey"))

    async def revoke(self, webhook_id: str) -> Webhook:
        try:
            resp = await self._ddb.update_item(
                TableName=self._table, Key={"webhook_id": serialize(webhook_id)},
                UpdateExpression="SET #s = :revoked, revoked_at = :now",
                ConditionExpression="attribute_exists(webhook_id) AND #s = :active",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=values({":revoked": "revoked", ":active": "active", ":now": utcnow()}),
                ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            old = exc.response.get("Item")
            if not old:
                raise WebhookNotFound(webhook_id) from exc
            raise WebhookAlreadyRevoked(Webhook.model_validate(from_item(old))) from exc
        return Webhook.model_validate(from_item(resp["Attributes"]))

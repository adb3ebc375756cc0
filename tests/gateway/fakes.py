"""In-memory fakes of the gateway's own stores (WebhookStore, SecretStore)."""

from __future__ import annotations

from services.gateway.adapters.errors import WebhookAlreadyRevoked, WebhookNotFound
from services.gateway.adapters.webhooks import Webhook
from shared.aws.pagination import InvalidToken, decode_token, encode_token
from shared.clock import utcnow


class InMemoryWebhooks:
    def __init__(self) -> None:
        self.rows: dict[str, Webhook] = {}

    async def create(self, webhook: Webhook) -> Webhook:
        if webhook.webhook_id in self.rows:
            raise ValueError("webhook exists")
        self.rows[webhook.webhook_id] = webhook
        return webhook

    async def get(self, webhook_id: str) -> Webhook | None:
        return self.rows.get(webhook_id)

    async def list_for_user(self, user_id: str, *, limit: int = 20,
                            next_token: str | None = None) -> tuple[list[Webhook], str | None]:
        mine = sorted((w for w in self.rows.values() if w.user_id == user_id), key=lambda w: w.webhook_id)
        start = decode_token(next_token)
        if start is not None:
            if start.get("user_id") != user_id or not isinstance(start.get("webhook_id"), str):
                raise InvalidToken("next_token belongs to another listing")
            mine = [w for w in mine if w.webhook_id > start["webhook_id"]]
        page = mine[:limit]
        more = len(mine) > limit
        return page, encode_token({"user_id": user_id, "webhook_id": page[-1].webhook_id}) if more else None

    async def revoke(self, webhook_id: str) -> Webhook:
        current = self.rows.get(webhook_id)
        if current is None:
            raise WebhookNotFound(webhook_id)
        if not current.active:
            raise WebhookAlreadyRevoked(current)
        self.rows[webhook_id] = current.model_copy(update={"status": "revoked", "revoked_at": utcnow()})
        return self.rows[webhook_id]


class InMemorySecrets:
    """Counts reads, so tests can see the gateway's cache at work."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.deleted: list[str] = []
        self.reads = 0

    async def create(self, name: str, value: str) -> None:
        if name in self.values:
            raise ValueError("secret exists")
        self.values[name] = value

    async def get(self, name: str) -> str | None:
        self.reads += 1
        return self.values.get(name)

    async def delete(self, name: str) -> None:
        if self.values.pop(name, None) is not None:
            self.deleted.append(name)

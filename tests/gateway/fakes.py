"""In-memory fakes of the gateway's own stores (WebhookStore, SecretStore)."""

from __future__ import annotations

from services.gateway.adapters.errors import WebhookAlreadyRevoked, WebhookNotFound
from services.gateway.adapters.webhooks import Webhook
from services.gateway.ui.sessions import Session
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


class InMemoryUiSessions:
    def __init__(self) -> None:
        self.codes: dict[str, tuple[str, int]] = {}
        self.used: set[str] = set()
        self.sessions: dict[str, Session | None] = {}

    async def put_code(self, code_hash: str, user_id: str, expires_at: int) -> None:
        self.codes[code_hash] = (user_id, expires_at)

    async def claim_code(self, code_hash: str, now: int) -> str | None:
        found = self.codes.get(code_hash)
        if found is None or found[1] < now or code_hash in self.used:
            return None
        self.used.add(code_hash)
        return found[0]

    async def put_session(self, session_hash: str, session: Session) -> None:
        self.sessions[session_hash] = session

    async def get_session(self, session_hash: str, now: int) -> Session | None:
        found = self.sessions.get(session_hash)
        return found if found is not None and found.expires_at >= now else None

    async def end_session(self, session_hash: str) -> None:
        self.sessions[session_hash] = None


class InMemoryEventReader:
    """EventReader over the trails an InMemoryTaskStore (or any store with `events`) holds."""

    def __init__(self, store) -> None:
        self._store = store

    async def events_after(self, task_id: str, after: str | None, *, limit: int = 100):
        trail = sorted(self._store.events.get(task_id, []), key=lambda e: e.event_id)
        return [e for e in trail if after is None or e.event_id > after][:limit]

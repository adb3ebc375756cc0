"""One-time login codes and browser sessions, kept in the stack's idempotency table.

Only hashes are stored: a leaked table never holds a usable code or session id. A code is single-use
because claiming it is a conditional put of a "used" marker (append-only writes are all this needs)."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from botocore.exceptions import ClientError

from shared.aws.dynamo import from_item, serialize, to_item

CODE_TTL_SECONDS = 120
SESSION_TTL_SECONDS = 8 * 3600


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    user_id: str
    csrf_token: str
    expires_at: int


class UiSessionStore(Protocol):
    """Login codes and sessions by the hash of their secret."""

    async def put_code(self, code_hash: str, user_id: str, expires_at: int) -> None: ...

    async def claim_code(self, code_hash: str, now: int) -> str | None:
        """The code's user, once: None if it is unknown, expired or claimed already."""

    async def put_session(self, session_hash: str, session: Session) -> None: ...

    async def get_session(self, session_hash: str, now: int) -> Session | None:
        """The live session, or None (unknown, expired or ended)."""

    async def end_session(self, session_hash: str) -> None: ...


def _failed_condition(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DynamoUiSessions:
    """UiSessionStore over the idempotency table (key `ui#…`, TTL on expires_at)."""

    def __init__(self, ddb: Any, table: str):
        self._ddb = ddb
        self._table = table

    async def _get(self, key: str) -> dict | None:
        resp = await self._ddb.get_item(TableName=self._table, Key={"key": serialize(key)}, ConsistentRead=True)
        return from_item(resp["Item"]) if resp.get("Item") else None

    async def put_code(self, code_hash: str, user_id: str, expires_at: int) -> None:
        await self._ddb.put_item(TableName=self._table, Item=to_item(
            {"key": f"ui#code#{code_hash}", "user_id": user_id, "expires_at": expires_at}))

    async def claim_code(self, code_hash: str, now: int) -> str | None:
        found = await self._get(f"ui#code#{code_hash}")
        if found is None or int(found["expires_at"]) < now:
            return None
        try:
            await self._ddb.put_item(
                TableName=self._table, ConditionExpression="attribute_not_exists(#k)",
                ExpressionAttributeNames={"#k": "key"},
                Item=to_item({"key": f"ui#used#{code_hash}", "expires_at": int(found["expires_at"]) + 60}))
        except ClientError as exc:
            if _failed_condition(exc):
                return None
            raise
        return str(found["user_id"])

    async def put_session(self, session_hash: str, session: Session) -> None:
        await self._ddb.put_item(TableName=self._table, Item=to_item(
            {"key": f"ui#session#{session_hash}", "user_id": session.user_id, "csrf_token": session.csrf_token,
             "expires_at": session.expires_at}))

    async def get_session(self, session_hash: str, now: int) -> Session | None:
        found = await self._get(f"ui#session#{session_hash}")
        if found is None or found.get("ended") or int(found["expires_at"]) < now:
            return None
        return Session(str(found["user_id"]), str(found["csrf_token"]), int(found["expires_at"]))

    async def end_session(self, session_hash: str) -> None:
        # A put over the same key: the gateway's role may append and overwrite rows, never delete them.
        await self._ddb.put_item(TableName=self._table, Item=to_item(
            {"key": f"ui#session#{session_hash}", "ended": True, "expires_at": int(time.time()) + 60}))


@dataclass
class LoginService:
    """Issues login codes, exchanges them for sessions, and resolves session cookies."""

    store: UiSessionStore
    clock: Callable[[], float] = time.time

    async def issue_code(self, user_id: str) -> tuple[str, int]:
        code = secrets.token_urlsafe(32)
        expires_at = int(self.clock()) + CODE_TTL_SECONDS
        await self.store.put_code(digest(code), user_id, expires_at)
        return code, expires_at

    async def exchange(self, code: str) -> tuple[str, Session] | None:
        """A new session id and its session for a valid code; None otherwise."""
        user_id = await self.store.claim_code(digest(code), int(self.clock())) if code else None
        if user_id is None:
            return None
        session_id = secrets.token_urlsafe(32)
        session = Session(user_id, secrets.token_urlsafe(32), int(self.clock()) + SESSION_TTL_SECONDS)
        await self.store.put_session(digest(session_id), session)
        return session_id, session

    async def resolve(self, session_id: str | None) -> Session | None:
        if not session_id or len(session_id) > 128:
            return None
        return await self.store.get_session(digest(session_id), int(self.clock()))

    async def end(self, session_id: str) -> None:
        await self.store.end_session(digest(session_id))

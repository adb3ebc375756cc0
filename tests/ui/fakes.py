"""An in-memory UiSessionStore, held to the same contract as the DynamoDB one."""

from __future__ import annotations

from services.gateway.ui.sessions import Session


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

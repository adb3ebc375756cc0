"""One contract for every UiSessionStore: the in-memory fake and DynamoDB (the AWS emulator)."""

from __future__ import annotations

import asyncio
import time

import pytest

from services.gateway.ui.sessions import DynamoUiSessions, LoginService, Session, digest
from shared.aws.clients import AwsClients
from tests.gateway.fakes import InMemoryUiSessions


@pytest.fixture(params=["memory", "dynamo"])
async def store(request, aws_endpoint):
    if request.param == "memory":
        yield InMemoryUiSessions()
        return
    from tests.support.aws import make_stack

    stack = make_stack(aws_endpoint)
    async with AwsClients(stack.settings) as clients:
        yield DynamoUiSessions(await clients.client("dynamodb"), stack.names.idempotency_table)


async def test_a_code_is_claimed_once_even_by_racing_exchanges(store):
    now = int(time.time())
    await store.put_code("h1", "alice", now + 60)
    claims = await asyncio.gather(*[store.claim_code("h1", now) for _ in range(8)])
    assert claims.count("alice") == 1 and claims.count(None) == 7


async def test_an_expired_or_unknown_code_is_refused(store):
    now = int(time.time())
    await store.put_code("h2", "alice", now - 1)
    assert await store.claim_code("h2", now) is None
    assert await store.claim_code("nope", now) is None


async def test_a_session_lives_until_it_expires_or_ends(store):
    now = int(time.time())
    await store.put_session("s1", Session("bob", "csrf-1", now + 100))
    assert await store.get_session("s1", now) == Session("bob", "csrf-1", now + 100)
    assert await store.get_session("s1", now + 101) is None
    await store.end_session("s1")
    assert await store.get_session("s1", now) is None
    assert await store.get_session("unknown", now) is None


async def test_the_login_service_stores_hashes_never_the_secrets(store):
    login = LoginService(store)
    code, _ = await login.issue_code("carol")
    exchanged = await login.exchange(code)
    assert exchanged is not None
    session_id, session = exchanged
    assert session.user_id == "carol" and await login.resolve(session_id) == session
    assert await login.exchange(code) is None  # single use
    if isinstance(store, InMemoryUiSessions):
        assert code not in store.codes and digest(code) in store.codes
        assert session_id not in store.sessions and digest(session_id) in store.sessions

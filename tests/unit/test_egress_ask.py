"""`egress: ask` through the real proxy: refused at once and asked once per host; approved, the retry goes through."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

import pytest

from agent.egress_approvals import EgressAsker
from agent.sandbox.egress import EgressProxy
from agent.sandbox.egress_policy import EgressPolicy, Verdict
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S
from tests.fakes.steering import InMemoryApprovals
from tests.fakes.tasks import InMemoryTaskStore
from tests.support.tls import client_hello


async def _running(store: InMemoryTaskStore) -> Task:
    task = await store.create(Task.new(user_id="alice", repo="acme/app", task_description="x"))
    await store.transition(task.task_id, S.HYDRATING, max_active=3)
    return await store.transition(task.task_id, S.RUNNING)


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers the tunnel's first bytes (a TLS ClientHello) with a line, as a server's first flight would."""
    await reader.read(5)
    writer.write(b"ping\n")
    await writer.drain()
    writer.close()


class World:
    def __init__(self, store: InMemoryTaskStore, approvals: InMemoryApprovals, task: Task, port: int,
                 proxy: EgressProxy, decisions: list[tuple[str, bool]]):
        self.store, self.approvals, self.task, self.port = store, approvals, task, port
        self.proxy, self.decisions = proxy, decisions

    async def connect(self, host: str = "unlisted.example") -> str:
        """A CONNECT through the proxy, then a ClientHello naming the host; the answer as text."""
        reader, writer = await asyncio.open_unix_connection(str(self.proxy.socket_path))
        writer.write(f"CONNECT {host}:{self.port} HTTP/1.1\r\n\r\n".encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
        if b" 200 " in head:
            writer.write(client_hello(host))
        answer = head + await asyncio.wait_for(reader.read(), 2)
        writer.close()
        return answer.decode()

    async def requests(self) -> list:
        await asyncio.sleep(0.02)  # the request is written beside the refusal
        return [a for a in self.approvals.rows.values() if a.kind == "egress"]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    store = InMemoryTaskStore()
    approvals, task = InMemoryApprovals(store), await _running(store)
    upstream = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = upstream.sockets[0].getsockname()[1]
    decisions: list[tuple[str, bool]] = []

    async def record(host: str, port: int, verdict: Verdict) -> None:
        decisions.append((host, verdict.allowed))

    async def resolve(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    # The test's upstream is on loopback: the address rule is relaxed here, the allowlist is not.
    policy = EgressPolicy(["pypi.org"], resolver=resolve, address_allowed=lambda ip: True)
    proxy = EgressProxy(policy, record, EgressAsker(approvals, task, recheck_seconds=0))
    await proxy.start()
    try:
        yield World(store, approvals, task, port, proxy, decisions)
    finally:
        await proxy.close()
        upstream.close()


async def test_an_unlisted_host_is_refused_at_once_and_asked_about_once(world: World):
    started = asyncio.get_running_loop().time()
    first = await world.connect()
    assert asyncio.get_running_loop().time() - started < 1  # no client waits for a person
    assert " 403 " in first and "not in the repository's egress allowlist" in first and "bgagent pending" in first
    for _ in range(3):
        assert " 403 " in await world.connect()
    [request] = await world.requests()
    assert request.command == f"connect to unlisted.example:{world.port}" and request.status == "pending"
    assert world.store.tasks[world.task.task_id].status == S.RUNNING  # the task goes on
    assert world.decisions and not any(allowed for _, allowed in world.decisions)  # each refusal is reported


async def test_once_approved_the_same_connection_goes_through(world: World):
    assert " 403 " in await world.connect()
    [request] = await world.requests()
    await world.approvals.decide(request, "approved", by="alice")
    answer = await world.connect()
    assert " 200 " in answer and answer.endswith("ping\n")
    assert " 200 " in await world.connect("UNLISTED.example.")  # the host, for the rest of the task
    assert ("unlisted.example", True) in world.decisions
    assert " 403 " in await world.connect("other.example")  # only that host


async def test_a_denied_host_stays_refused_and_is_not_asked_again(world: World):
    await world.connect()
    [request] = await world.requests()
    await world.approvals.decide(request, "denied", by="alice", reason="not that one")
    answer = await world.connect()
    assert " 403 " in answer and "denied it: not that one" in answer
    assert len(await world.requests()) == 1

"""What leaves through the egress proxy is what it vetted: every plain HTTP request on a connection with its
Host header, and a CONNECT tunnel's TLS server name (SNI)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator

import pytest

from agent.sandbox.egress import EgressProxy
from agent.sandbox.egress_policy import EgressPolicy, Verdict
from tests.support.tls import client_hello

Decision = tuple[str, int, bool, str]


class Origin:
    """A fake server on loopback: records every byte it gets and answers each request with its own target."""

    def __init__(self) -> None:
        self.received = bytearray()
        self.requests: list[bytes] = []
        self.port = 0

    async def start(self) -> Origin:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            first = await reader.readexactly(1)
            if first == b"\x16":  # TLS: record it all, answer once
                self.received += first + await reader.read(65_536)
                writer.write(b"tls bytes relayed")
                while data := await reader.read(65_536):
                    self.received += data
            while head := first + await reader.readuntil(b"\r\n\r\n"):
                first = b""
                self.received += head
                self.requests.append(head)
                length = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
                body = await reader.readexactly(int(length[0].split(b":")[1])) if length else b""
                self.received += body
                method, target = head.split(b" ")[:2]
                answer = b"from " + target + b" " + body
                if method == b"HEAD":  # a length, and no body after it
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(answer))
                elif method == b"GET":  # chunked, with a trailer
                    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n"
                                 b"0\r\nX-Trailer: t\r\n\r\n" % (len(answer), answer))
                else:
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer))
        writer.close()


@contextlib.asynccontextmanager
async def proxy(allow: list[str]) -> AsyncIterator[tuple[EgressProxy, list[Decision]]]:
    """A proxy whose every listed name resolves to loopback (and whose address rule admits it)."""
    decisions: list[Decision] = []

    async def record(host: str, port: int, verdict: Verdict) -> None:
        decisions.append((host, port, verdict.allowed, verdict.reason))

    async def loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    egress = EgressProxy(EgressPolicy(allow, resolver=loopback, address_allowed=lambda ip: True), record)
    await egress.start()
    try:
        yield egress, decisions
    finally:
        await egress.close()


async def send(egress: EgressProxy, data: bytes) -> bytes:
    """Everything the proxy answers to `data` until it closes (the sandbox's side is half-closed after it)."""
    reader, writer = await asyncio.open_unix_connection(str(egress.socket_path))
    writer.write(data)
    writer.write_eof()
    try:
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()


def get(url: str, host: str, body: bytes = b"", method: bytes = b"GET") -> bytes:
    length = b"Content-Length: %d\r\n" % len(body) if body else b""
    return b"%s %s HTTP/1.1\r\nHost: %s\r\n%s\r\n%s" % (b"POST" if body else method, url.encode(), host.encode(),
                                                       length, body)





async def test_a_host_header_naming_another_host_is_refused_and_recorded() -> None:
    origin = await Origin().start()
    listed = f"allowed.test:{origin.port}"
    async with proxy([listed]) as (egress, decisions):
        for host in ("front.example", "allowed.test:81", "allowed.test"):  # the last lacks the URI's port
            answer = await send(egress, get(f"http://{listed}/simple/", host))
            assert answer.startswith(b"HTTP/1.1 403") and b"Host header" in answer
    assert origin.received == b""
    assert [d[:3] for d in decisions] == [("allowed.test", origin.port, False)] * 3
    assert all("Host header" in d[3] and "does not name" in d[3] for d in decisions)


async def test_pipelined_requests_are_each_vetted_and_nothing_after_a_refusal_is_sent() -> None:
    origin = await Origin().start()
    listed = f"allowed.test:{origin.port}"
    async with proxy([listed]) as (egress, decisions):
        answer = await send(egress, get(f"http://{listed}/a", listed, b"payload")
                            + get(f"http://{listed}/b", listed, method=b"HEAD")
                            + get(f"http://{listed}/b2", listed)
                            + get(f"http://{listed}/c", "front.example")
                            + get(f"http://{listed}/d", listed))
    first, second, third, fourth = answer.split(b"HTTP/1.1 ")[1:]
    assert first.endswith(b"from /a payload") and second.endswith(b"Content-Length: 8\r\n\r\n")
    assert third.endswith(b"9\r\nfrom /b2 \r\n0\r\nX-Trailer: t\r\n\r\n")
    assert fourth.startswith(b"403") and b"Host header" in fourth
    assert [r.split(b" ")[1] for r in origin.requests] == [b"/a", b"/b", b"/b2"]  # /c and /d never left
    assert (("allowed.test", origin.port, False) in [d[:3] for d in decisions])


async def test_a_pipelined_request_for_an_unlisted_host_never_reaches_any_upstream() -> None:
    origin = await Origin().start()
    listed = f"allowed.test:{origin.port}"
    async with proxy([listed]) as (egress, decisions):
        answer = await send(egress, get(f"http://{listed}/a", listed)
                            + get(f"http://evil.example:{origin.port}/steal", f"evil.example:{origin.port}"))
    assert answer.count(b"HTTP/1.1 200") == 1 and b"HTTP/1.1 403" in answer and b"allowlist" in answer
    assert b"steal" not in origin.received
    assert ("evil.example", origin.port, False) in [d[:3] for d in decisions]


async def test_a_pipelined_request_for_another_listed_host_gets_its_own_vetted_upstream() -> None:
    one, two = await Origin().start(), await Origin().start()
    a, b = f"one.test:{one.port}", f"two.test:{two.port}"
    async with proxy([a, b]) as (egress, decisions):
        answer = await send(egress, get(f"http://{a}/1", a) + get(f"http://{b}/2", b) + get(f"http://{a}/3", a))
    assert [part.split(b"\r\n")[-5] for part in answer.split(b"HTTP/1.1 ")[1:]] == \
        [b"from /1 ", b"from /2 ", b"from /3 "]
    assert [r.split(b" ")[1] for r in one.requests] == [b"/1", b"/3"]
    assert [r.split(b" ")[1] for r in two.requests] == [b"/2"]
    assert {d[:3] for d in decisions} == {("one.test", one.port, True), ("two.test", two.port, True)}


@pytest.mark.parametrize("smuggled", [
    b"Content-Length: 45\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",  # CL and TE: which one ends the body?
    b"Transfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",  # not a chunk size
    b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n",  # a chunk longer than its size
    b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    b"Content-Length: 5\r\nContent-Length: 7\r\n\r\n",
    b"X-Folded: a\r\n b\r\n\r\n",  # obs-fold
    b"X-Bare: a\nHost: evil.example\r\n\r\n",  # a bare LF one parser splits on
])
async def test_ambiguous_framing_ends_the_connection_before_the_next_request(smuggled: bytes) -> None:
    origin = await Origin().start()
    listed = f"allowed.test:{origin.port}"
    async with proxy([listed]) as (egress, _):
        head = f"POST http://{listed}/upload HTTP/1.1\r\nHost: {listed}\r\n".encode()
        answer = await send(egress, head + smuggled + get(f"http://{listed}/second", listed))
    # An ambiguous head is answered 400; a body found malformed halfway just ends the connection.
    assert answer == b"" or answer.startswith(b"HTTP/1.1 400")
    assert b"/second" not in origin.received and b"200 OK" not in answer


async def test_an_over_long_pipelined_head_is_refused_and_never_forwarded() -> None:
    origin = await Origin().start()
    listed = f"allowed.test:{origin.port}"
    async with proxy([listed]) as (egress, _):
        answer = await send(egress, get(f"http://{listed}/a", listed)
                            + get(f"http://{listed}/b", listed).replace(b"\r\n\r\n", b"\r\nX: " + b"a" * 20_000
                                                                        + b"\r\n\r\n"))
    assert answer.startswith(b"HTTP/1.1 200") and b"HTTP/1.1 400" in answer and b"too large" in answer
    assert [r.split(b" ")[1] for r in origin.requests] == [b"/a"]


def with_extension(hello: bytes, kind: int, data: bytes) -> bytes:
    """`hello` (one record) with one more extension, every enclosing length adjusted."""
    body = hello[9:]
    at = 2 + 32
    at += 1 + body[at]  # session id
    at += 2 + int.from_bytes(body[at:at + 2], "big")  # cipher suites
    at += 1 + body[at]  # compression methods
    extensions = body[at + 2:] + kind.to_bytes(2, "big") + len(data).to_bytes(2, "big") + data
    body = body[:at] + len(extensions).to_bytes(2, "big") + extensions
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    return hello[:3] + len(handshake).to_bytes(2, "big") + handshake


def split_records(hello: bytes, at: int) -> bytes:
    """The same handshake message carried by two TLS records."""
    message = hello[5:]
    return b"".join(hello[:3] + len(part).to_bytes(2, "big") + part for part in (message[:at], message[at:]))


async def tunnel(egress: EgressProxy, target: str, first_flight: bytes) -> tuple[bytes, bytes]:
    """(the proxy's CONNECT answer, what comes back through the tunnel after `first_flight`)."""
    reader, writer = await asyncio.open_unix_connection(str(egress.socket_path))
    writer.write(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    established = await reader.readuntil(b"\r\n\r\n")
    writer.write(first_flight)
    try:
        return established, await asyncio.wait_for(reader.read(17), 5)
    finally:
        writer.close()


@pytest.mark.parametrize("first_flight, reason", [
    (client_hello("front.example"), "names 'front.example', not allowed.test"),
    (client_hello(None), "names no server"),
    (with_extension(client_hello("allowed.test"), 0xFE0D, b"\x00" * 32), "Encrypted Client Hello"),
    (with_extension(client_hello("allowed.test"), 0xFFCE, b"\x00" * 32), "Encrypted Client Hello"),
    (b"GET / HTTP/1.1\r\nHost: anything.example\r\n\r\n", "does not start with a TLS handshake"),
    (client_hello("allowed.test")[:5] + b"\x02" + client_hello("allowed.test")[6:], "not start with a ClientHello"),
    (with_extension(client_hello("allowed.test"), 0x0000, b"\x00\x05\x00\x00\x02ab"), "appears twice"),
])
async def test_a_tunnel_whose_client_hello_does_not_name_the_vetted_host_is_closed(
        first_flight: bytes, reason: str) -> None:
    origin = await Origin().start()
    async with proxy([f"allowed.test:{origin.port}"]) as (egress, decisions):
        established, back = await tunnel(egress, f"allowed.test:{origin.port}", first_flight)
    assert established.startswith(b"HTTP/1.1 200") and back == b""
    assert origin.received == b""
    assert decisions[-1][:3] == ("allowed.test", origin.port, False) and reason in decisions[-1][3]


@pytest.mark.parametrize("first_flight", [client_hello("Allowed.Test"),
                                          split_records(client_hello("allowed.test"), 40)])
async def test_a_tunnel_whose_client_hello_names_the_vetted_host_is_relayed_unchanged(first_flight: bytes) -> None:
    origin = await Origin().start()
    async with proxy([f"allowed.test:{origin.port}"]) as (egress, decisions):
        _, back = await tunnel(egress, f"allowed.test.:{origin.port}", first_flight)
    assert back == b"tls bytes relayed"
    for _ in range(100):  # the rest of the hello may still be on its way
        if len(origin.received) >= len(first_flight):
            break
        await asyncio.sleep(0.01)
    assert bytes(origin.received) == first_flight
    assert decisions == [("allowed.test.", origin.port, True, "")]


async def test_a_listed_host_on_an_unlisted_port_gets_no_tunnel() -> None:
    async with proxy(["allowed.test"]) as (egress, decisions):
        answer = await send(egress, b"CONNECT allowed.test:22 HTTP/1.1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 403") and b"port 22 is not allowed" in answer
    assert decisions[0][:3] == ("allowed.test", 22, False)

"""The egress rules: which hosts are listed, which addresses are refused after DNS, what the proxy forwards."""

from __future__ import annotations

import asyncio

import pytest

from agent.sandbox.egress import EgressProxy
from agent.sandbox.egress_http import parse_request
from agent.sandbox.egress_policy import EgressPolicy, Verdict
from agent.sandbox.errors import BadMessage
from agent.sandbox.reporting import EgressTrail


def resolving(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("no such host")
        return table[host]
    return resolve


async def test_only_listed_hosts_and_their_subdomains_by_wildcard_pass() -> None:
    policy = EgressPolicy(["pypi.org", "*.pythonhosted.org"],
                          resolver=resolving({"pypi.org": ["151.101.0.223"],
                                              "files.pythonhosted.org": ["151.101.1.63"]}))
    assert await policy.vet("PyPI.org.", 443) == Verdict(True, "151.101.0.223")
    assert (await policy.vet("files.pythonhosted.org", 443)).allowed
    assert not (await policy.vet("evil-pypi.org", 443)).allowed
    assert not (await policy.vet("sub.pypi.org", 443)).allowed
    assert not (await policy.vet("pythonhosted.org.evil.com", 443)).allowed


async def test_a_listed_host_that_resolves_inside_is_refused() -> None:
    policy = EgressPolicy(["metadata.example", "mixed.example", "gone.example"], resolver=resolving({
        "metadata.example": ["169.254.169.254"], "mixed.example": ["151.101.0.223", "10.0.0.5"]}))
    for host in ("metadata.example", "mixed.example"):
        verdict = await policy.vet(host, 80)
        assert not verdict.allowed and "private" in verdict.reason
    assert "could not resolve" in (await policy.vet("gone.example", 80)).reason


def test_the_proxy_reads_connect_and_absolute_form_requests() -> None:
    connect = parse_request(b"CONNECT pypi.org:443 HTTP/1.1\r\nHost: pypi.org:443\r\n\r\n")
    assert (connect.method, *connect.destination()) == ("CONNECT", "pypi.org", 443)
    get = parse_request(
        b"GET http://deb.example/dists/x?y=1 HTTP/1.1\r\nHost: deb.example\r\nProxy-Authorization: b\r\n\r\n")
    assert (get.method, *get.destination()) == ("GET", "deb.example", 80)
    assert get.origin_form() == b"GET /dists/x?y=1 HTTP/1.1\r\nHost: deb.example\r\n\r\n"
    for bad in (b"GET /relative HTTP/1.1\r\n\r\n", b"CONNECT nohost HTTP/1.1\r\n\r\n", b"junk\r\n\r\n",
                b"GET ftp://x/ HTTP/1.1\r\n\r\n"):
        with pytest.raises(BadMessage):
            parse_request(bad)


async def test_a_refused_connection_is_reported_and_answered_403() -> None:
    decisions: list[tuple[str, int, bool]] = []

    async def record(host: str, port: int, verdict: Verdict) -> None:
        decisions.append((host, port, verdict.allowed))

    proxy = EgressProxy(EgressPolicy(["pypi.org"], resolver=resolving({})), record)
    await proxy.start()
    try:
        reader, writer = await asyncio.open_unix_connection(str(proxy.socket_path))
        writer.write(b"CONNECT 169.254.169.254:80 HTTP/1.1\r\n\r\n")
        answer = await reader.read()
        writer.close()
    finally:
        await proxy.close()
    assert answer.startswith(b"HTTP/1.1 403") and b"allowlist" in answer
    assert decisions == [("169.254.169.254", 80, False)]
    assert not proxy.socket_path.exists()


async def test_each_destination_and_verdict_is_reported_once() -> None:
    events: list[tuple[str, dict]] = []

    async def emit(kind: str, metadata) -> None:  # type: ignore[no-untyped-def]
        events.append((kind, dict(metadata)))

    trail = EgressTrail(emit)
    for _ in range(50):
        await trail("pypi.org", 443, Verdict(True, "151.101.0.223"))
    await trail("evil.example", 443, Verdict(False, reason="host is not in the repository's egress allowlist"))
    assert events == [
        ("sandbox.egress", {"host": "pypi.org", "port": 443, "verdict": "allowed", "reason": None}),
        ("sandbox.egress", {"host": "evil.example", "port": 443, "verdict": "refused",
                            "reason": "host is not in the repository's egress allowlist"})]

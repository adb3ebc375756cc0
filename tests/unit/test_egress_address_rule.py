"""One address rule for the egress proxy and the URL-attachment fetcher: an IPv6 address that carries an IPv4
address (mapped, NAT64, 6to4, IPv4-compatible) is judged by the IPv4 address it delivers to."""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from agent.sandbox.egress_policy import EgressPolicy
from services.hydrator.url_attachments import UrlFetcher
from shared.attachments.errors import AttachmentFetchFailed
from shared.netaddr import public_address

INSIDE = ["127.0.0.1", "10.0.0.1", "169.254.169.254"]


def carriers(v4: str) -> list[str]:
    """The IPv6 forms that deliver to `v4`: mapped, NAT64 (well-known prefix), 6to4, IPv4-compatible."""
    n = int(ipaddress.IPv4Address(v4))
    return [f"::ffff:{v4}", str(ipaddress.IPv6Address((0x64FF9B << 96) | n)),
            str(ipaddress.IPv6Address((0x2002 << 112) | (n << 80))), f"::{v4}"]


HIDDEN = [form for v4 in INSIDE for form in carriers(v4)] + [
    "64:ff9b:1::a00:1",  # local-use NAT64: the operator's prefix length decides where the IPv4 address sits
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo: a relay anyone runs
]
PUBLIC = ["93.184.215.14", "151.101.0.223", "2606:4700::1111", *carriers("93.184.215.14")[1:3]]


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1",
    "fe80::1", "fd00:ec2::254", "fd00::1", "::ffff:127.0.0.1", "224.0.0.1"])
def test_private_loopback_link_local_and_metadata_addresses_are_never_public(address: str) -> None:
    assert not public_address(address) and not public_address(ipaddress.ip_address(address))


def resolving(address: str):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        return [address]
    return resolve


async def _vet(address: str) -> bool:
    policy = EgressPolicy(["registry.example"], resolver=resolving(address))
    verdict = await policy.vet("registry.example", 443)
    assert verdict.allowed or "private" in verdict.reason
    return verdict.allowed


async def _fetched(address: str) -> bool:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"GIF89a" + b"\x00" * 16, headers={"content-type": "image/gif"})
    fetcher = UrlFetcher(resolver=resolving(address), transport=httpx.MockTransport(answer))
    try:
        await fetcher.fetch("https://innocent.example/image.gif")
    except AttachmentFetchFailed as exc:
        assert "private, loopback or link-local" in str(exc)
        return False
    return True


@pytest.mark.parametrize("reaches", [_vet, _fetched], ids=["egress proxy", "attachment fetcher"])
async def test_ipv6_forms_of_inside_addresses_are_refused_and_public_ones_pass(reaches) -> None:  # type: ignore[no-untyped-def]
    assert [a for a in HIDDEN if public_address(a) or await reaches(a)] == []
    assert [a for a in PUBLIC if not (public_address(a) and await reaches(a))] == []

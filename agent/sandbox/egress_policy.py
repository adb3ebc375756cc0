"""Which destinations the egress proxy lets a sandboxed command reach."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Awaitable, Callable, Sequence

Resolver = Callable[[str, int], Awaitable[list[str]]]
AddressCheck = Callable[[ipaddress.IPv4Address | ipaddress.IPv6Address], bool]


def public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Only globally routable unicast: never loopback, private, link-local (metadata), CGNAT or multicast."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses from the runtime's resolver."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class Verdict:
    """Whether a connection may go out, where to, and why not."""

    allowed: bool
    address: str | None = None
    reason: str = ""
    unlisted: bool = False  # refused only because the host is not in the allowlist (`egress: ask` may ask)


def _normal(host: str) -> str:
    return host.strip().rstrip(".").lower()


class EgressPolicy:
    """A repository's allowlist of hosts (`pypi.org`, `*.pythonhosted.org`) and the address rule after DNS."""

    def __init__(self, allowlist: Sequence[str], *, resolver: Resolver = system_resolver,
                 address_allowed: AddressCheck = public_address):
        self._exact = {_normal(h) for h in allowlist if not h.startswith("*.")}
        self._suffixes = tuple("." + _normal(h[2:]) for h in allowlist if h.startswith("*."))
        self._resolve = resolver
        self._address_allowed = address_allowed

    def allow(self, host: str) -> None:
        """List `host` for the rest of the task (its owner approved it); the address rule still applies."""
        self._exact.add(_normal(host))

    def host_listed(self, host: str) -> bool:
        host = _normal(host)
        return host in self._exact or host.endswith(self._suffixes)

    async def vet(self, host: str, port: int) -> Verdict:
        """Allowed only if the host is listed and every address it resolves to passes the address rule."""
        if not self.host_listed(host):
            return Verdict(False, reason="host is not in the repository's egress allowlist", unlisted=True)
        try:
            addresses = await self._resolve(_normal(host), port)
        except (OSError, UnicodeError) as exc:
            return Verdict(False, reason=f"could not resolve: {exc}")
        parsed = [ipaddress.ip_address(a.split("%", 1)[0]) for a in addresses]
        if not parsed or not all(self._address_allowed(ip) for ip in parsed):
            # Connecting to the vetted address (never re-resolving) keeps DNS rebinding out too.
            return Verdict(False, reason="resolves to a private, loopback or link-local address")
        return Verdict(True, address=str(parsed[0]))

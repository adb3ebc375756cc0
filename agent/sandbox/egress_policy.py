"""Which destinations the egress proxy lets a sandboxed command reach."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Awaitable, Callable, Sequence

from shared.netaddr import IPAddress, public_address
from shared.repos.egress import DEFAULT_PORTS, egress_rule, normal_host

Resolver = Callable[[str, int], Awaitable[list[str]]]
AddressCheck = Callable[[IPAddress], bool]


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


class EgressPolicy:
    """A repository's allowlist (`pypi.org`, `*.pythonhosted.org`, `registry.local:8443`) and the address rule
    after DNS."""

    def __init__(self, allowlist: Sequence[str], *, resolver: Resolver = system_resolver,
                 address_allowed: AddressCheck = public_address):
        self._rules = [egress_rule(entry) for entry in allowlist]
        self._resolve = resolver
        self._address_allowed = address_allowed

    def allow(self, host: str, port: int) -> None:
        """List `host` on `port` (as the owner approved it: "connect to host:port") for the rest of the task; the
        address rule still applies."""
        self._rules.append(egress_rule(f"{normal_host(host)}:{port}"))

    def host_listed(self, host: str) -> bool:
        return any(rule.names(host) for rule in self._rules)

    async def vet(self, host: str, port: int) -> Verdict:
        """Allowed only if the host is listed for the port and every address it resolves to passes the address
        rule."""
        if not self.host_listed(host):
            return Verdict(False, reason="host is not in the repository's egress allowlist", unlisted=True)
        if not any(rule.admits(host, port) for rule in self._rules):
            ports = " and ".join(map(str, DEFAULT_PORTS))
            return Verdict(False, reason=f"port {port} is not allowed: only {ports} unless the allowlist names "
                                         f"the port ({normal_host(host)}:{port})")
        try:
            addresses = await self._resolve(normal_host(host), port)
        except (OSError, UnicodeError) as exc:
            return Verdict(False, reason=f"could not resolve: {exc}")
        parsed = [ipaddress.ip_address(a.split("%", 1)[0]) for a in addresses]
        if not parsed or not all(self._address_allowed(ip) for ip in parsed):
            # Connecting to the vetted address (never re-resolving) keeps DNS rebinding out too.
            return Verdict(False, reason="resolves to a private, loopback or link-local address")
        return Verdict(True, address=str(parsed[0]))

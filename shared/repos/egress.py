"""An egress allowlist entry: a host or `*.domain`, on ports 80 and 443 unless it names one (`host:8443`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator

DEFAULT_PORTS = (80, 443)
_LABEL = r"(?!-)[a-z0-9_-]{1,63}(?<!-)"
_ENTRY = re.compile(rf"^(?P<wild>\*\.)?(?P<host>{_LABEL}(?:\.{_LABEL})*)(?::(?P<port>[0-9]{{1,5}}))?$")


def normal_host(host: str) -> str:
    """A host name as compared: lower case, no trailing dot."""
    return host.strip().rstrip(".").lower()


@dataclass(frozen=True)
class EgressRule:
    """One parsed entry: `*.domain` matches the domain's subdomains only; no port means 80 and 443."""

    host: str
    wildcard: bool = False
    port: int | None = None

    @property
    def domain(self) -> str:
        """The entry without its port (what a DNS firewall lists)."""
        return ("*." if self.wildcard else "") + self.host

    def names(self, host: str) -> bool:
        host = normal_host(host)
        return host.endswith("." + self.host) if self.wildcard else host == self.host

    def admits(self, host: str, port: int) -> bool:
        return self.names(host) and (port in DEFAULT_PORTS if self.port is None else port == self.port)


def egress_rule(entry: str) -> EgressRule:
    """The rule an allowlist entry states; ValueError saying what a valid entry looks like otherwise."""
    found = _ENTRY.match(normal_host(entry))
    port = int(found["port"]) if found and found["port"] else None
    if found is None or len(found["host"]) > 253 or port == 0 or (port or 0) > 65535:
        raise ValueError(f"egress allowlist entry {entry[:100]!r} is not a host name, '*.' and a domain, "
                         "or either with ':PORT' (1-65535), e.g. pypi.org, *.pythonhosted.org, registry.local:8443")
    return EgressRule(found["host"], bool(found["wild"]), port)


def _checked(entry: str) -> str:
    rule = egress_rule(entry)
    return rule.domain + (f":{rule.port}" if rule.port is not None else "")


EgressEntry = Annotated[str, AfterValidator(_checked)]

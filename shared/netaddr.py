"""The one rule for which addresses the platform may connect to on a user's behalf: globally routable unicast.

An IPv6 address that carries an IPv4 address (mapped, NAT64, 6to4, IPv4-compatible) is judged by the IPv4
address it carries, because a translator or relay on the path delivers the connection there.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Local-use NAT64 (RFC 8215) places the IPv4 address by the operator's prefix length: nothing to unwrap reliably.
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_TEREDO = ipaddress.ip_network("2001::/32")  # the client address is obfuscated and the relay is anyone's
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address delivers to, if it is one of the forms that carry one."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return None


def public_address(address: str | IPAddress) -> bool:
    """Only globally routable unicast: never loopback, private, link-local (metadata), CGNAT, multicast, nor an
    IPv6 form that carries one of those."""
    ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL or ip in _TEREDO:
            return False
        ip = embedded_ipv4(ip) or ip
    return ip.is_global and not ip.is_multicast

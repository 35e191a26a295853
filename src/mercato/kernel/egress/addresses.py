"""Which IP addresses an outbound connection may reach: public unicast only.

The tables are explicit rather than `ipaddress.is_global`, whose answer changed between
Python versions and which calls NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`) global
although both lead straight back to IPv4 addresses of our own network. IPv6 is allowed
only inside global unicast (`2000::/3`) and outside the ranges below; an IPv4-mapped IPv6
address (`::ffff:a.b.c.d`) is judged, and connected to, as its IPv4 address.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address

_REFUSED_V4: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(network), reason)
    for network, reason in (
        ("0.0.0.0/8", "this network"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared address space (CGNAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),  # includes 255.255.255.255, the broadcast address
    )
)

_GLOBAL_UNICAST_V6 = IPv6Network("2000::/3")

# Inside 2000::/3 but not a place to send requests to.
_REFUSED_GLOBAL_V6: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(network), reason)
    for network, reason in (
        ("2001::/23", "IETF protocol assignments (Teredo, benchmarking, ORCHID)"),
        ("2001:db8::/32", "documentation"),
        ("2002::/16", "6to4"),
        ("3ffe::/16", "former 6bone"),
        ("3fff::/20", "documentation"),
    )
)

# Outside 2000::/3 everything is refused; these names only make the log line clearer.
_NAMED_V6: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(network), reason)
    for network, reason in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "IPv4-compatible"),
        ("::ffff:0:0:0/96", "IPv4-translated"),
        ("64:ff9b::/96", "NAT64"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard-only"),
        ("5f00::/16", "segment routing"),
        ("fc00::/7", "unique local (private)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    )
)


def connectable(address: IPAddress) -> IPAddress:
    """The address a socket should use: an IPv4-mapped IPv6 address becomes IPv4."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def refusal_reason(address: IPAddress) -> str | None:
    """Why egress refuses `address` (a range name for the log), or None when it is public."""
    address = connectable(address)
    if isinstance(address, IPv4Address):
        return next((reason for network, reason in _REFUSED_V4 if address in network), None)
    if address in _GLOBAL_UNICAST_V6:
        return next((reason for network, reason in _REFUSED_GLOBAL_V6 if address in network), None)
    named = (reason for network, reason in _NAMED_V6 if address in network)
    return next(named, "outside IPv6 global unicast (2000::/3)")

"""One spelling for a host name or address, so an allow-list entry and a URL's host compare.

`Example.COM.`, `example.com` and `example.com` are one host; `[2001:DB8::1]` and
`2001:db8:0::1` are one address. Settings validate `host[:port]` entries with
`parse_host_entry`; egress compares them with `canonical_host` of the host it is asked to
reach. Nothing here resolves names.
"""

from __future__ import annotations

import ipaddress
import re

ANY_HOST = "*"
_LABEL = r"[a-z0-9_]([a-z0-9_\-]{0,61}[a-z0-9_])?"
_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")


def canonical_host(host: str) -> str:
    """Lower case, no brackets around IPv6, no trailing dot, IP addresses compressed."""
    name = host.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")
    try:
        return ipaddress.ip_address(name).compressed
    except ValueError:
        return name


def host_with_port(host: str, port: int) -> str:
    """`host:port`, with an IPv6 address in brackets so the port stays readable."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_host_entry(entry: str) -> str:
    """`host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address → canonical form.

    Raises `ValueError` naming the entry when it is none of these.
    """
    text = entry.strip()
    if text == ANY_HOST:
        return ANY_HOST
    port: str | None = None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"{entry!r} is not host[:port]")
            port = rest[1:]
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host = text
    name = canonical_host(host)
    if not _is_address(name) and not _NAME.match(name):
        raise ValueError(f"{entry!r} is not a host name or IP address")
    if port is None:
        return name
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{entry!r} has no valid port (1-65535)")
    return host_with_port(name, int(port))


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True

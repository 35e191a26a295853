"""Resolve a host once, check every address, and hand out only checked addresses.

Checking a name and then letting a library resolve it again to connect is a DNS-rebinding
hole: the second answer can be `127.0.0.1`. Here the name is resolved once, every address
of the answer must be public (one internal address refuses the whole name), and callers
connect to those addresses and nothing else. Hosts listed in
`MERCATO_EGRESS_ALLOWED_HOSTS` (`host` or `host:port`) skip the address check; they are
still resolved once and connected to the same way.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import ip_address

from mercato.kernel.egress.addresses import IPAddress, connectable, refusal_reason
from mercato.kernel.egress.errors import CannotConnect, EgressRefused
from mercato.kernel.hostnames import canonical_host, host_with_port
from mercato.kernel.logging import get_logger
from mercato.settings import get_settings

log = get_logger("mercato.egress")

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""(host, port) → the addresses the name stands for, as text, in preference order."""


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


_resolver: Resolver = system_resolver


@contextmanager
def resolver_override(resolver: Resolver) -> Iterator[None]:
    """Answer name lookups with `resolver` for a while (tests stage DNS answers with it)."""
    global _resolver
    previous, _resolver = _resolver, resolver
    try:
        yield
    finally:
        _resolver = previous


@dataclass(frozen=True, slots=True)
class Target:
    """A host and port with the addresses to connect to, already checked."""

    host: str
    port: int
    addresses: tuple[IPAddress, ...]


def is_allowed_host(host: str, port: int) -> bool:
    """Whether the operator exempted `host` (on any port, or on this one) from the check."""
    settings = get_settings()
    allowed = settings.egress_allowed_hosts
    name = canonical_host(host)
    return (
        settings.egress_allows_every_host
        or name in allowed
        or host_with_port(name, port) in allowed
    )


def literal_refusal(host: str, port: int) -> str | None:
    """Why `host` is refused without a lookup (an internal IP literal, `localhost`), else None.

    For early validation of a URL a tenant types in; the connection checks again.
    """
    name = canonical_host(host)
    if is_allowed_host(name, port):
        return None
    if name == "localhost" or name.endswith(".localhost"):
        return "loopback"
    try:
        address = ip_address(name)
    except ValueError:
        return None
    return refusal_reason(address)


async def resolve_target(host: str, port: int) -> Target:
    """Resolve `host` once and check its addresses.

    Raises `EgressRefused` when an address is internal and the host is not allowed, and
    `CannotConnect` when the name does not resolve.
    """
    name = canonical_host(host)
    try:
        addresses = [ip_address(name)]
    except ValueError:
        addresses = await _lookup(name, port)
    checked = tuple(dict.fromkeys(connectable(address) for address in addresses))
    if not is_allowed_host(name, port):
        for address in checked:
            reason = refusal_reason(address)
            if reason is not None:
                log.warning(
                    "egress_refused", host=name, port=port, address=str(address), range=reason
                )
                raise EgressRefused(f"{host_with_port(name, port)} is not allowed ({reason})")
    return Target(name, port, checked)


async def _lookup(name: str, port: int) -> list[IPAddress]:
    try:
        answers = await _resolver(name, port)
    except (OSError, UnicodeError) as exc:  # socket.gaierror is an OSError
        log.info("egress_unresolved", host=name, port=port, error=str(exc))
        raise CannotConnect(f"{host_with_port(name, port)} does not resolve") from None
    addresses = [ip_address(answer) for answer in answers]
    if not addresses:
        raise CannotConnect(f"{host_with_port(name, port)} does not resolve")
    return addresses


async def open_socket(host: str, port: int, *, timeout_s: float) -> socket.socket:
    """A TCP socket connected to a checked address of `host` (for SSH and SMTP clients).

    The caller owns the socket. Every failure is `CannotConnect` (or `EgressRefused`); the
    reason (refused, unreachable, timed out) goes to the log only.
    """
    target = await resolve_target(host, port)
    loop = asyncio.get_running_loop()
    failure: BaseException | None = None
    try:
        async with asyncio.timeout(timeout_s):
            for address in target.addresses:
                family = socket.AF_INET if address.version == 4 else socket.AF_INET6
                sock = socket.socket(family, socket.SOCK_STREAM)
                sock.setblocking(False)
                try:
                    await loop.sock_connect(sock, (str(address), port))
                except BaseException as exc:
                    sock.close()
                    if not isinstance(exc, OSError):
                        raise  # cancelled, or the time limit: the socket is closed first
                    failure = exc
                    continue
                return sock
    except TimeoutError as exc:
        failure = exc
    log.info("egress_connect_failed", host=target.host, port=port, error=repr(failure))
    raise CannotConnect(f"could not connect to {host_with_port(target.host, port)}")

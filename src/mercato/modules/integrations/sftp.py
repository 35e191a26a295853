"""Open an SFTP session from a tenant's `sftp` integration settings (asyncssh over egress).

The TCP connection is made by egress (one lookup, internal addresses refused, the checked
address connected to) and handed to asyncssh. The server's host key is checked against
`host_key` when one is pinned; without it the connection is encrypted but the server is
not authenticated, which "test connection" says out loud.

Whatever fails — the connection, the login, a file operation inside the session — comes
out as `SftpFailed` with a sentence of our own: nothing the server said, and the same
"could not connect" for a closed port, a dropped one and a refused address.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any

from mercato.kernel import egress
from mercato.kernel.extras import needs_extra
from mercato.kernel.logging import get_logger

if TYPE_CHECKING:
    import asyncssh

CONNECT_TIMEOUT_S = 15

log = get_logger("mercato.integrations.sftp")


class SftpFailed(Exception):
    """The SFTP work failed; the message is safe to show the tenant."""


def _asyncssh() -> ModuleType:
    """The SFTP library, an optional extra (a clear 409 names it when missing)."""
    with needs_extra("sftp", "SFTP"):
        import asyncssh
    return asyncssh


def _known_hosts(config: dict[str, Any]) -> Any:
    pinned = config.get("host_key")
    if not pinned:
        return None
    key = _asyncssh().import_public_key(pinned)
    return ([key], [], [])


UNREACHABLE = f"{egress.COULD_NOT_CONNECT} to the SFTP server"


def _failure(exc: Exception) -> SftpFailed:
    asyncssh = _asyncssh()
    if isinstance(exc, asyncssh.PermissionDenied):
        return SftpFailed("SFTP login refused: check the username and the password or key")
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return SftpFailed("the SFTP server's host key does not match the pinned `host_key`")
    if isinstance(exc, asyncssh.SFTPError):
        return SftpFailed("the SFTP server refused a file operation")
    return SftpFailed(UNREACHABLE)


@asynccontextmanager
async def open_sftp(config: dict[str, Any]) -> AsyncIterator[asyncssh.SFTPClient]:
    """An SFTP client logged in with the configured password or private key.

    Raises `SftpFailed` for every connection, login or file-operation failure.
    """
    host, port = str(config["host"]), int(config.get("port", 22))
    asyncssh = _asyncssh()
    client_keys = (
        [asyncssh.import_private_key(config["private_key"])] if config.get("private_key") else None
    )
    try:
        sock = await egress.open_socket(host, port, timeout_s=CONNECT_TIMEOUT_S)
    except egress.CannotConnect as exc:
        raise SftpFailed(UNREACHABLE) from exc
    with contextlib.closing(sock):
        try:
            async with (
                asyncssh.connect(
                    host,
                    sock=sock,
                    username=config["username"],
                    password=config.get("password"),
                    client_keys=client_keys,
                    known_hosts=_known_hosts(config),
                    connect_timeout=CONNECT_TIMEOUT_S,
                    preferred_auth=["publickey", "password"] if client_keys else ["password"],
                    config=[],  # never the worker's own ~/.ssh/config, agent or keys
                    agent_path=None,
                ) as connection,
                connection.start_sftp_client() as sftp,
            ):
                yield sftp
        except (asyncssh.Error, OSError) as exc:
            log.info("sftp_failed", host=host, port=port, error=repr(exc))
            raise _failure(exc) from exc

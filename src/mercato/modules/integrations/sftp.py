"""Open an SFTP session from a tenant's `sftp` integration settings (asyncssh).

The server's host key is checked against `host_key` when one is pinned; without it the
connection is encrypted but the server is not authenticated, which "test connection"
says out loud.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from mercato.kernel.extras import needs_extra

if TYPE_CHECKING:
    import asyncssh

CONNECT_TIMEOUT_S = 15


def _known_hosts(config: dict[str, Any]) -> Any:
    pinned = config.get("host_key")
    if not pinned:
        return None
    with needs_extra("sftp", "SFTP"):
        import asyncssh

    key = asyncssh.import_public_key(pinned)
    return ([key], [], [])


@asynccontextmanager
async def open_sftp(config: dict[str, Any]) -> AsyncIterator[asyncssh.SFTPClient]:
    """An SFTP client logged in with the configured password or private key."""
    with needs_extra("sftp", "SFTP"):
        import asyncssh

    client_keys = (
        [asyncssh.import_private_key(config["private_key"])] if config.get("private_key") else None
    )
    async with (
        asyncssh.connect(
            config["host"],
            port=int(config.get("port", 22)),
            username=config["username"],
            password=config.get("password"),
            client_keys=client_keys,
            known_hosts=_known_hosts(config),
            connect_timeout=CONNECT_TIMEOUT_S,
            preferred_auth=["publickey", "password"] if client_keys else ["password"],
        ) as connection,
        connection.start_sftp_client() as sftp,
    ):
        yield sftp

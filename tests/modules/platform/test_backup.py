"""Backups: a dump restored into a fresh database has the same rows in every table."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from mercato.modules.platform.backup import (
    BackupError,
    backup_connection,
    create_backup,
    find_pg_tools,
    restore_backup,
    server_major,
)
from mercato.settings import get_settings
from tests.factories import create_tenant, signup_and_login


def _fingerprint(dsn: str) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent checksum of every table in `public`."""
    with psycopg.connect(dsn) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        found = {}
        for table in tables:
            count, checksum = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(md5(t::text), '' "
                f"ORDER BY md5(t::text)), '')) FROM \"{table}\" t"
            ).fetchone()
            found[table] = (count, checksum)
        return found


@pytest.fixture
def restored_database(owner_dsn: str):
    url = make_url(owner_dsn)
    name = f"{url.database}_restored"
    target = url.set(database=name).render_as_string(hide_password=False)
    yield target
    admin = url.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_backup_restores_into_a_fresh_database_with_identical_tables(
    client, owner_dsn, restored_database, tmp_path: Path
) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    await client.post(
        f"/api/v1/tenants/{tenant}/pages",
        json={"slug": "backup", "title": "Kept", "body": "**safe**"},
        headers=owner.headers,
    )
    settings = get_settings()
    result = create_backup(settings, tmp_path / "mercato.dump")
    assert result.size_bytes > 0
    assert result.server_major == server_major(backup_connection(settings))
    source = _fingerprint(owner_dsn)

    restore_backup(settings, result.path, into=restored_database)
    restored = _fingerprint(restored_database)
    assert set(restored) == set(source)
    assert {t: fp for t, fp in restored.items() if fp != source[t]} == {}
    assert source["content_page"][0] >= 1
    with psycopg.connect(restored_database) as conn:
        forced = conn.execute(
            "SELECT relforcerowsecurity FROM pg_class WHERE relname = 'content_page'"
        ).fetchone()[0]
    assert forced  # row-level security comes back with the data

    with pytest.raises(BackupError, match="already has"):
        restore_backup(settings, result.path, into=restored_database)


def test_missing_client_programs_fail_with_what_to_install(tmp_path: Path) -> None:
    settings = get_settings().model_copy(update={"pg_bin_dir": tmp_path})
    with pytest.raises(BackupError) as failure:
        find_pg_tools(16, settings)
    message = str(failure.value)
    assert "PostgreSQL 16" in message
    assert "MERCATO_PG_BIN_DIR" in message
    assert str(tmp_path) in message


def test_restoring_a_file_that_is_not_there_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="No backup file"):
        restore_backup(get_settings(), tmp_path / "nothing.dump")

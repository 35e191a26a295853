"""`mercato export tenant`: every row of one tenant as a JSON Lines archive (portability).

Line 1 is a header (`format`, `version`, the tenant, row counts per table, the columns
left out); every other line is `{"table": …, "row": {…}}`. Rows come from every table
with a `tenant_id` column, discovered at run time, plus the tenant's members' staff
accounts. The export runs as the application role with `app.tenant_id` set, so row-level
security guarantees no other tenant's row can appear, in one repeatable-read snapshot —
on the replica (`MERCATO_DATABASE_READ_URL`) when it is within the allowed lag.
Secrets are not exported: columns named `*_hash`, `*_sealed`, `*_secret`,
`*_encrypted` or containing `password`. Nor are the bytes of shared blobs (fitted models,
pending uploads: megabytes a row), whose index `shared_blob` is. A `.gz` suffix
compresses the file.
"""

from __future__ import annotations

import gzip
import json
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import psycopg
from psycopg import sql

from mercato.kernel.blobs import BLOB_BYTES
from mercato.kernel.db import REPLICA_LAG_SQL, libpq_url, resolve_urls, set_local_sql
from mercato.modules.identity import members_staff_rows, tenant_row
from mercato.settings import Settings

FORMAT = "mercato-tenant-export"
VERSION = 1
SECRET_COLUMN = re.compile(r"(_hash|_sealed|_secret|_encrypted)$|password")
FETCH_ROWS = 2_000

Progress = Callable[[str, int, int], None]  # table, rows done in this step, table total


class TenantNotFound(LookupError):
    pass


@dataclass
class ExportResult:
    path: Path
    tenant_id: uuid.UUID
    rows: dict[str, int] = field(default_factory=dict)


def _app_connection(settings: Settings) -> psycopg.Connection[tuple[Any, ...]]:
    urls = resolve_urls(settings)
    conn = _replica_connection(urls.read, settings.database_read_max_lag_s) if urls.read else None
    conn = conn or psycopg.connect(libpq_url(urls.app), connect_timeout=10)
    if urls.app_role:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(urls.app_role)))
    conn.commit()
    # One consistent snapshot across every table of the archive.
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    return conn


def _replica_connection(url: str, max_lag_s: float) -> psycopg.Connection[tuple[Any, ...]] | None:
    """A connection to the replica, or None when it is down or too far behind."""
    try:
        conn = psycopg.connect(libpq_url(url), connect_timeout=10)
    except psycopg.OperationalError:
        return None
    try:
        row = conn.execute(REPLICA_LAG_SQL).fetchone()
    except psycopg.Error:
        row = None
    if row is None or row[0] > max_lag_s:
        conn.close()
        return None
    return conn


def _columns(conn: psycopg.Connection[tuple[Any, ...]], table: str) -> tuple[list[str], list[str]]:
    names = [
        name
        for (name,) in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) "
            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            (f"public.{table}",),
        ).fetchall()
    ]
    kept = [n for n in names if not SECRET_COLUMN.search(n) and (table, n) != BLOB_BYTES]
    return kept, [n for n in names if n not in kept]


def _select(table: str, columns: list[str], where: sql.Composable) -> sql.Composed:
    pairs = sql.SQL(", ").join(
        sql.SQL("{}, t.{}").format(sql.Literal(c), sql.Identifier(c)) for c in columns
    )
    return sql.SQL("SELECT jsonb_build_object({})::text FROM {} t WHERE {}").format(
        pairs, sql.Identifier(table), where
    )


@contextmanager
def _open(path: Path) -> Iterator[IO[str]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            yield handle
    else:
        with path.open("w", encoding="utf-8") as handle:
            yield handle


def export_tenant(
    settings: Settings, reference: str, out: Path, progress: Progress | None = None
) -> ExportResult:
    """Write the tenant's archive to `out`; `progress` hears of each batch written."""
    with _app_connection(settings) as conn:
        tenant = tenant_row(conn, reference)
        if tenant is None:
            raise TenantNotFound(f"No tenant with id or slug {reference!r}")
        tenant_id = uuid.UUID(tenant["id"])
        conn.execute(set_local_sql("app.tenant_id", str(tenant_id)))
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM platform_tenant_tables() ORDER BY table_name"
            ).fetchall()
        ]
        plan: dict[str, tuple[sql.Composed, int]] = {}
        excluded: dict[str, list[str]] = {}
        for table in tables:
            kept, dropped = _columns(conn, table)
            where = sql.SQL("t.tenant_id = {}").format(sql.Literal(str(tenant_id)))
            count = conn.execute(
                sql.SQL("SELECT count(*) FROM {} t WHERE {}").format(sql.Identifier(table), where)
            ).fetchone()
            plan[table] = (_select(table, kept, where), int(count[0]) if count else 0)
            if dropped:
                excluded[table] = dropped
        staff_table, members = members_staff_rows(tenant_id)
        staff_columns, staff_dropped = _columns(conn, staff_table)
        staff_count = conn.execute(
            sql.SQL("SELECT count(*) FROM {} t WHERE {}").format(
                sql.Identifier(staff_table), members
            )
        ).fetchone()
        plan[staff_table] = (
            _select(staff_table, staff_columns, members),
            int(staff_count[0]) if staff_count else 0,
        )
        excluded[staff_table] = staff_dropped
        result = ExportResult(out, tenant_id, {name: total for name, (_, total) in plan.items()})
        with _open(out) as handle:
            header = {
                "format": FORMAT,
                "version": VERSION,
                "exported_at": datetime.now(UTC).isoformat(),
                "tenant": tenant,
                "tables": result.rows,
                "excluded_columns": excluded,
            }
            handle.write(json.dumps(header, ensure_ascii=False) + "\n")
            for table, (query, total) in plan.items():
                prefix = '{"table": ' + json.dumps(table) + ', "row": '
                with conn.cursor(name=f"export_{table}") as cursor:
                    cursor.itersize = FETCH_ROWS
                    cursor.execute(query)
                    while batch := cursor.fetchmany(FETCH_ROWS):
                        handle.writelines(prefix + row[0] + "}\n" for row in batch)
                        if progress:
                            progress(table, len(batch), total)
        conn.rollback()
    return result

"""The SQL that stores checked events: new dedup keys first, then exactly their events.

Two ways in, one statement shape:
- a few rows (single events, small batches) go as one multi-row VALUES list of plain
  parameters, in one round trip (a raw cursor: `$n` placeholders, no parsing in Python);
- larger batches are streamed with binary COPY (the rows are encoded in C, which costs a
  fraction of building arrays in Python) into a per-connection temporary staging table
  that empties itself at commit, then moved with one INSERT … SELECT.
Keys are inserted in key order, so two concurrent batches never deadlock on each other.
`store_rows` is the way in for a session scoped to the tenant; `commit_few` stores a few
rows for each of some tenants in a transaction of its own, in one round trip.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import date
from functools import lru_cache
from operator import itemgetter
from typing import Any

import psycopg
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import get_database, session_driver, set_local_sql
from mercato.kernel.errors import ServiceUnavailable
from mercato.modules.tracking.partitions import ensure_partitions, known_months, month_of
from mercato.modules.tracking.validation import EventRow

COPY_THRESHOLD = 32
STAGING = "event_incoming"
_STAGING_COLUMNS = (
    ("occurred_at", "timestamptz"),
    ("key", "bytea"),
    ("type", "text"),
    ("user_id", "text"),
    ("session_id", "text"),
    ("product_id", "text"),
    ("quantity", "int4"),
    ("price", "numeric"),
    ("revenue", "numeric"),
    ("currency", "text"),
    ("query", "text"),
    ("results_count", "int4"),
    ("placement", "text"),
    ("strategy", "text"),
    ("experiment_id", "text"),
    ("variant", "text"),
    ("location_code", "text"),
    ("event_id", "text"),
    ("properties", "text"),  # JSON text; cast to jsonb on the way into `event`
)
_NAMES = ", ".join(name for name, _ in _STAGING_COLUMNS)
_TYPES = [kind for _, kind in _STAGING_COLUMNS]
_CREATE_STAGING = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING} "
    f"({', '.join(f'{n} {t}' for n, t in _STAGING_COLUMNS)}) ON COMMIT DELETE ROWS"
)


def _store_from(source_rows: str, tenant_param: int) -> str:
    """The store statement reading rows from `source_rows` (module constants only).

    Tenant and source are parameters `tenant_param` and the one after it.
    """
    tenant, source = f"${tenant_param}::uuid", f"${tenant_param + 1}::text"
    return f"""
WITH batch AS ({source_rows}),
fresh AS (
    INSERT INTO event_key (tenant_id, key, occurred_at)
    SELECT {tenant}, key, occurred_at FROM batch ORDER BY key
    ON CONFLICT DO NOTHING
    RETURNING key
)
INSERT INTO event (tenant_id, {_NAMES}, source)
SELECT {tenant}, b.occurred_at, b.key, b.type, b.user_id, b.session_id, b.product_id,
       b.quantity, b.price, b.revenue, b.currency, b.query, b.results_count, b.placement,
       b.strategy, b.experiment_id, b.variant, b.location_code, b.event_id,
       b.properties::jsonb, {source}
FROM batch b JOIN fresh f ON f.key = b.key
RETURNING key
"""  # noqa: S608 - identifiers are this module's constants


_WIDTH = len(_STAGING_COLUMNS)


@lru_cache(maxsize=COPY_THRESHOLD)
def _store_values(count: int) -> str:
    """The store statement for `count` rows sent as plain parameters (dumped in C).

    Written with PostgreSQL's own `$n` placeholders for a raw cursor: psycopg would
    otherwise parse the whole statement for `%s` on every execution (it caches that
    only for statements under 4 KB, and ten rows are longer).
    """
    rows = ", ".join(
        "({})".format(
            ", ".join(
                f"${n * _WIDTH + i + 1}::{kind}" for i, (_, kind) in enumerate(_STAGING_COLUMNS)
            )
        )
        for n in range(count)
    )
    values = f"SELECT * FROM (VALUES {rows}) AS b({_NAMES})"  # noqa: S608
    return _store_from(values, count * _WIDTH + 1)


_STORE_STAGED = _store_from(f"SELECT * FROM {STAGING}", 1)  # noqa: S608


async def _empty_staging(
    connection: psycopg.AsyncConnection[Any], transaction_info: dict[str, Any]
) -> None:
    """Make sure the staging table exists (a rolled-back transaction may have taken it away)
    and is empty: commit empties it (ON COMMIT DELETE ROWS), so only a transaction that
    stores several batches, an import, pays for a TRUNCATE between them. One round trip.
    """
    statements = _CREATE_STAGING
    if transaction_info.get(STAGING):
        statements += f"; TRUNCATE {STAGING}"
    await connection.execute(statements)
    transaction_info[STAGING] = True


async def write_rows(
    connection: psycopg.AsyncConnection[Any],
    transaction_info: dict[str, Any],
    tenant_id: uuid.UUID,
    rows: Sequence[EventRow],
    source: str,
) -> set[bytes]:
    """Store the rows whose key is new; the keys stored.

    `transaction_info` lives as long as the transaction (the unit of work's session).
    """
    async with psycopg.AsyncRawCursor(connection) as cursor:
        if len(rows) < COPY_THRESHOLD:
            params: list[Any] = [value for row in rows for value in row[:-1]]
            params += [tenant_id, source]
            await cursor.execute(_store_values(len(rows)), params, binary=True)
        else:
            await _empty_staging(connection, transaction_info)
            async with cursor.copy(f"COPY {STAGING} ({_NAMES}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(_TYPES)
                for row in rows:
                    await copy.write_row(row[:-1])
            await cursor.execute(_STORE_STAGED, [tenant_id, source], binary=True)
        return {record[0] for record in await cursor.fetchall()}


async def store_rows(
    session: AsyncSession, tenant_id: uuid.UUID, rows: Sequence[EventRow], *, source: str
) -> list[EventRow]:
    """Store rows whose key is new for the tenant; return those stored.

    The session must be scoped to `tenant_id`. Duplicate keys inside `rows` keep the first.
    """
    unique = _unique(rows)
    if not unique:
        return []
    await ensure_partitions(get_database().engine, _months(unique.values()))
    driver = await session_driver(session)
    with _partition_check():
        stored_keys = await write_rows(
            driver, session.info, tenant_id, list(unique.values()), source
        )
    return _stored(unique, stored_keys)


def fits_one_round_trip(rows: Collection[EventRow]) -> bool:
    """Whether `commit_few` may store these rows of one tenant (a VALUES list, no COPY)."""
    return len(rows) < COPY_THRESHOLD


async def commit_few(
    rows_by_tenant: Mapping[uuid.UUID, Sequence[EventRow]], *, source: str
) -> dict[uuid.UUID, list[EventRow]]:
    """Store each tenant's rows (each `fits_one_round_trip`) in one transaction, committed
    on return; the rows stored per tenant (duplicate keys inside one tenant's rows keep the
    first).

    The whole transaction is one pipeline — BEGIN, then per tenant (in id order) its
    `SET LOCAL app.tenant_id` and its store statement, then COMMIT — sent at once and
    answered at once: one round trip where a session costs three (psycopg's BEGIN, the
    statement, the commit) and the ORM's bookkeeping around them. The connection runs in
    autocommit mode meanwhile so that psycopg sends no BEGIN of its own; the explicit one
    makes the statements one transaction, which row-level security checks tenant by tenant
    as in a session. An error rolls the whole transaction back: nothing was stored.
    """
    unique = {tenant: _unique(rows) for tenant, rows in rows_by_tenant.items()}
    unique = {tenant: rows for tenant, rows in unique.items() if rows}
    if not unique:
        return {}
    await ensure_partitions(
        get_database().engine, set().union(*(_months(rows.values()) for rows in unique.values()))
    )
    async with get_database().engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        raw = await connection.get_raw_connection()
        driver: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
        cursors: dict[uuid.UUID, psycopg.AsyncRawCursor[Any]] = {}
        try:
            with _partition_check():
                async with driver.pipeline():
                    await driver.execute(b"BEGIN", prepare=False)
                    for tenant_id in sorted(unique, key=lambda t: t.bytes):
                        scope = set_local_sql("app.tenant_id", str(tenant_id))
                        await driver.execute(scope.encode(), prepare=False)
                        cursor = cursors[tenant_id] = psycopg.AsyncRawCursor(driver)
                        rows = list(unique[tenant_id].values())
                        params: list[Any] = [value for row in rows for value in row[:-1]]
                        params += [tenant_id, source]
                        await cursor.execute(_store_values(len(rows)), params, binary=True)
                    await driver.execute(b"COMMIT", prepare=False)
        except BaseException:
            if not driver.closed:  # end the failed transaction before the pool has it back
                with suppress(psycopg.Error):
                    await driver.rollback()
            raise
        return {
            tenant_id: _stored(unique[tenant_id], {record[0] for record in await cursor.fetchall()})
            for tenant_id, cursor in cursors.items()
        }


def _unique(rows: Sequence[EventRow]) -> dict[bytes, EventRow]:
    """The rows by key; a key sent twice keeps its first row."""
    unique = dict(zip(map(_KEY, rows), rows, strict=True))
    if len(unique) < len(rows):
        unique = {}
        for row in rows:
            unique.setdefault(row.key, row)
    return unique


def _stored(unique: dict[bytes, EventRow], stored_keys: set[bytes]) -> list[EventRow]:
    if len(stored_keys) == len(unique):
        return list(unique.values())
    return [row for key, row in unique.items() if key in stored_keys]


@contextmanager
def _partition_check() -> Iterator[None]:
    try:
        yield
    except psycopg.errors.CheckViolation as exc:
        # A partition this process believed in was dropped meanwhile: the retry recreates it.
        known_months.forget()
        raise ServiceUnavailable(
            "The event store was reorganised during the request; retry",
            headers={"Retry-After": "1"},
        ) from exc


_KEY = itemgetter(EventRow._fields.index("key"))
_OCCURRED_AT = itemgetter(EventRow._fields.index("occurred_at"))


def _months(rows: Collection[EventRow]) -> set[date]:
    """The months the rows fall in (usually one: then without a look at each row)."""
    first, last = month_of(min(map(_OCCURRED_AT, rows))), month_of(max(map(_OCCURRED_AT, rows)))
    if first == last:
        return {first}
    return {month_of(row.occurred_at) for row in rows}

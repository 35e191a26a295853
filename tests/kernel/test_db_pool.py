"""The connection pool pings a pooled connection only after an idle spell, and then
replaces a dead one instead of failing the request; a rollback keeps the connection's prepared
statements unless the schema changed under one."""

from __future__ import annotations

import secrets

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from mercato.kernel import db
from mercato.settings import get_settings


async def _pid_after_backend_killed(owner_dsn: str) -> tuple[int, AsyncEngine]:
    """An engine whose one pooled connection the server has just terminated."""
    url = db.resolve_urls(get_settings()).owner
    engine = db.create_engine(url, pool_size=1, max_overflow=0)
    async with engine.connect() as conn:
        pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    with psycopg.connect(owner_dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    return pid, engine


async def test_a_connection_idle_past_the_threshold_is_pinged_and_replaced(
    owner_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)
    pid, engine = await _pid_after_backend_killed(owner_dsn)
    try:
        async with engine.connect() as conn:
            new_pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert new_pid != pid
    finally:
        await engine.dispose()


async def test_a_connection_back_in_use_at_once_is_not_pinged(
    owner_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No round trip for the ping on the hot path: the dead connection is handed out as is."""
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 3600.0)
    _, engine = await _pid_after_backend_killed(owner_dsn)
    try:
        with pytest.raises(DBAPIError):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        # The failed connection was invalidated; the next checkout connects anew.
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()


PREPARED_SQL = "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%kept_across%'"


async def test_a_rollback_keeps_the_connections_prepared_statements() -> None:
    """A refused request rolls back; the statements the connection prepared stay prepared
    (psycopg's own rollback forgets them all, and the server plans them again)."""
    url = db.resolve_urls(get_settings()).owner
    engine = db.create_engine(url, pool_size=1, max_overflow=0)
    statement = text("SELECT :n + 1 AS kept_across")
    try:
        async with engine.connect() as conn:
            for n in range(6):  # psycopg prepares from the fifth run on
                assert (await conn.execute(statement, {"n": n})).scalar_one() == n + 1
            await conn.rollback()
            assert (await conn.execute(text(PREPARED_SQL))).scalar_one() == 1
            # Still answered from the same prepared statement after the rollback.
            assert (await conn.execute(statement, {"n": 41})).scalar_one() == 42
            assert (await conn.execute(text(PREPARED_SQL))).scalar_one() == 1
    finally:
        await engine.dispose()


async def test_a_statement_the_schema_changed_under_is_prepared_afresh_after_the_rollback(
    owner_dsn: str,
) -> None:
    """A migration that changes a column's type while a process runs fails a kept
    statement once ("cached plan must not change result type"); the rollback then forgets
    the connection's statements, as psycopg's own does, so the retry succeeds."""
    table = f"kept_probe_{secrets.token_hex(4)}"
    with psycopg.connect(owner_dsn, autocommit=True) as owner:
        owner.execute(f"CREATE TABLE {table} (n int)")
        owner.execute(f"INSERT INTO {table} VALUES (1)")
    url = db.resolve_urls(get_settings()).owner
    engine = db.create_engine(url, pool_size=1, max_overflow=0)
    statement = text(f"SELECT n FROM {table}")
    try:
        async with engine.connect() as conn:
            for _ in range(6):
                assert (await conn.execute(statement)).scalar_one() == 1
            await conn.rollback()
            with psycopg.connect(owner_dsn, autocommit=True) as owner:
                owner.execute(f"ALTER TABLE {table} ALTER COLUMN n TYPE bigint")
            with pytest.raises(DBAPIError, match="cached plan must not change result type"):
                await conn.execute(statement)
            await conn.rollback()
            assert (await conn.execute(statement)).scalar_one() == 1
    finally:
        await engine.dispose()
        with psycopg.connect(owner_dsn, autocommit=True) as owner:
            owner.execute(f"DROP TABLE {table}")


def test_a_violation_is_recognised_by_its_constraint_or_a_shards_copy(owner_dsn: str) -> None:
    """On Citus the worker reports a shard's copy of a constraint, `<name>_<shard id>`."""
    table = f"violation_probe_{secrets.token_hex(4)}"
    with psycopg.connect(owner_dsn, autocommit=True) as owner:
        owner.execute(f"CREATE TABLE {table} (n int CONSTRAINT uq_{table}_n UNIQUE)")
        owner.execute(f"CREATE TABLE {table}_102008 (n int CONSTRAINT uq_{table}_n_102008 UNIQUE)")
        try:
            for name in (table, f"{table}_102008"):
                owner.execute(f"INSERT INTO {name} VALUES (1)")
                with pytest.raises(psycopg.errors.UniqueViolation) as caught:
                    owner.execute(f"INSERT INTO {name} VALUES (1)")
                assert db.violates(caught.value, f"uq_{table}_n")
                assert not db.violates(caught.value, f"uq_{table}")
                assert not db.violates(caught.value, "uq_something_else")
        finally:
            owner.execute(f"DROP TABLE {table}, {table}_102008")


def test_a_violation_passed_on_without_its_constraint_field_is_read_from_the_message(
    owner_dsn: str,
) -> None:
    """A Citus coordinator relays a worker's violation with the constraint only in the text."""
    raised = (
        "DO $$ BEGIN RAISE unique_violation USING MESSAGE = "
        "'duplicate key value violates unique constraint \"uq_sales_order_key_102041\"'; END $$"
    )
    with (
        psycopg.connect(owner_dsn, autocommit=True) as conn,
        pytest.raises(psycopg.errors.UniqueViolation) as caught,
    ):
        conn.execute(raised)
    assert caught.value.diag.constraint_name is None
    assert db.violates(caught.value, "uq_sales_order_key")
    assert not db.violates(caught.value, "uq_sales_order")

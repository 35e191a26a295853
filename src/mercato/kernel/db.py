"""Database engines and sessions.

Two roles reach PostgreSQL:
- the *owner* (`MERCATO_DATABASE_URL`) runs migrations and owns every table;
- the *application role* (`mercato_app` by default) owns nothing and is what every
  request and job uses. Row-level security is forced on every tenant table, so a
  query that forgets its tenant filter sees nothing rather than another tenant's rows.

A unit of work is one transaction: `tenant_session(tenant_id)` opens it and runs
`SET LOCAL app.tenant_id`, services only `flush()`, and the caller commits or rolls back.

A request's session is scoped with `scope_transaction` before it touches PostgreSQL: the
scope is applied when the transaction takes its connection (`SET LOCAL` in the same
round trip's transaction), so a request answered without PostgreSQL (a recommendation
from Redis) never takes a connection at all.

Reads that may lag the primary (analytics, exports, model fitting, task lists) take a
*read session* instead (`Database.read_session`, `read_following`): a `READ ONLY`
transaction with the same scope, on the streaming replica of `MERCATO_DATABASE_READ_URL`
while that replica is within `MERCATO_DATABASE_READ_MAX_LAG_S` of the primary, else on
the primary. Everything that writes, and every read that must see the request's own
writes, keeps the primary session.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.util import await_only

from mercato.kernel import embedded, tracing
from mercato.kernel.logging import get_logger
from mercato.kernel.prepared import KeepPreparedConnection
from mercato.settings import Settings

log = get_logger("mercato.db")


@dataclass(frozen=True)
class DatabaseUrls:
    owner: str
    app: str
    app_role: str | None  # role to SET on every app connection when `app` logs in as owner
    read: str | None = None  # a streaming replica; logs in like `app` (same `app_role` rule)


def _as_psycopg(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def resolve_urls(settings: Settings) -> DatabaseUrls:
    """Work out where the database is, starting the embedded server when none is configured."""
    owner = settings.database_url or embedded.postgres_url(settings.data_dir)
    owner = _as_psycopg(owner)
    read = _as_psycopg(settings.database_read_url) if settings.database_read_url else None
    if settings.app_database_url:
        return DatabaseUrls(owner, _as_psycopg(settings.app_database_url), None, read)
    return DatabaseUrls(owner, owner, settings.app_role, read)


def libpq_url(url: str) -> str:
    """The same URL in the form psycopg/libpq expect (no SQLAlchemy driver suffix)."""
    parsed: URL = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# A pooled connection back in use within this many seconds is trusted without a ping: a
# ping on every checkout is one more round trip on every request. Connections idle
# longer (the ones a restart or a firewall's idle timeout would have broken) still are.
PING_AFTER_IDLE_S = 10.0


def _ping_after_idle(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "checkin")
    def _note_return(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE_S:
            return  # fresh from connect(), or in use a moment ago
        try:
            sync_engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool discards the connection and checks out another (or connects anew).
            raise DisconnectionError("pooled connection failed its ping") from exc


def create_engine(
    url: str,
    *,
    role: str | None = None,
    pool_size: int = 10,
    max_overflow: int = 10,
    statement_timeout_ms: int | None = None,
    application_name: str = "mercato",
) -> AsyncEngine:
    """An async engine; with `role`, every new connection first becomes that role."""
    options = f"-c application_name={application_name}"
    if statement_timeout_ms:
        options += f" -c statement_timeout={statement_timeout_ms}"
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # Pinged on checkout only after an idle spell (below), not before every request.
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args={
            "options": options,
            "connect_timeout": 5,
            # A rollback keeps the connection's prepared statements (kernel.prepared).
            "async_creator_fn": KeepPreparedConnection.connect,
        },
    )
    _ping_after_idle(engine)
    if role is not None:
        quoted_role = quote_identifier(role)

        @event.listens_for(engine.sync_engine, "connect")
        def _become_app_role(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"SET ROLE {quoted_role}")
            cursor.close()
            dbapi_connection.commit()

    tracing.instrument_engine(engine)
    return engine


SCOPE = "tenant_scope"  # session.info key: (tenant id, user id or "") to SET LOCAL
SCOPED = "scope_applied"  # session.info key: the scope the open transaction runs under
_SETTING_VALUE = re.compile(r"[0-9A-Fa-f-]*")  # ids and hex digests, nothing to escape


_CONSTRAINT_IN_MESSAGE = re.compile(r'constraint "([^"]+)"')


def violates(exc: SQLAlchemyError | psycopg.Error, constraint: str) -> bool:
    """Whether `exc` is a violation of `constraint`, or on Citus of a shard's copy of it.

    A Citus worker names the copy `<constraint>_<shard id>`, and the coordinator passes
    the error on without its constraint field: the name is then read from the message.
    """
    diag = getattr(getattr(exc, "orig", exc), "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name is None:
        found = _CONSTRAINT_IN_MESSAGE.search(getattr(diag, "message_primary", None) or "")
        name = found.group(1) if found else ""
    suffix = name.removeprefix(f"{constraint}_")
    return name == constraint or (suffix != name and suffix.isdigit())


def set_local_sql(name: str, value: str) -> str:
    """`SET LOCAL name = 'value'` for an id or a hex digest (the transaction's scope).

    A SET statement rather than `set_config()`: Citus forwards SET LOCAL, and not function
    calls, to the worker nodes a transaction touches (`citus.propagate_set_commands =
    'local'`), and the shards' policies read the setting there. SET takes no bind
    parameter, hence the strict value shape.
    """
    if not _SETTING_VALUE.fullmatch(value):
        raise ValueError(f"not an id or a hex digest: {value!r}")
    return f"SET LOCAL {name} = '{value}'"


def _scope_list(scope: tuple[str, str]) -> list[str]:
    return [set_local_sql("app.tenant_id", scope[0]), set_local_sql("app.user_id", scope[1])]


def _scope_statements(scope: tuple[str, str]) -> str:
    return "; ".join(_scope_list(scope))


def _scope_sql(scope: tuple[str, str]) -> Any:
    return text(_scope_statements(scope))


async def _begin_scoped(driver: psycopg.AsyncConnection[Any], statements: list[str]) -> None:
    """psycopg's implicit BEGIN and the scope's SET LOCALs in one round trip (a pipeline:
    sent together, their results read at its end) instead of one each. Never prepared:
    each tenant's text differs, and would push the hot statements out of psycopg's cache."""
    async with driver.pipeline():
        for statement in statements:
            await driver.execute(statement.encode(), prepare=False)


class ScopedSession(Session):
    """A session that scopes each transaction it opens to `info[SCOPE]`, if set."""


@event.listens_for(ScopedSession, "after_begin")
def _apply_scope(session: Session, _transaction: SessionTransaction, connection: Any) -> None:
    scope = session.info.get(SCOPE)
    if scope is not None:
        driver = connection.connection.driver_connection
        idle = psycopg.pq.TransactionStatus.IDLE
        if isinstance(driver, psycopg.AsyncConnection) and driver.info.transaction_status == idle:
            await_only(_begin_scoped(driver, _scope_list(scope)))
        else:
            connection.execute(_scope_sql(scope))
    session.info[SCOPED] = scope


@event.listens_for(ScopedSession, "after_transaction_end")
def _forget_scope(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(SCOPED, None)


READ_ONLY_SQL = text("SET TRANSACTION READ ONLY")


def _read_only_scope_sql(scope: tuple[str, str]) -> Any:
    """Read-only and the tenant scope in one round trip (SET statements, as Citus needs)."""
    return text(f"SET TRANSACTION READ ONLY; {_scope_statements(scope)}")


SCOPE_OF = "scope_of"  # session.info key: the info of the session whose scope a read follows


class ReadOnlySession(Session):
    """A session whose transactions are `READ ONLY`, scoped by `info[SCOPE]` or else by
    the scope the followed session (`info[SCOPE_OF]`) has when the read begins.

    Following matters for a request: its authentication scopes the primary session, and
    the read session's transaction begins later, at the route's first read.
    """


@event.listens_for(ReadOnlySession, "after_begin")
def _read_only(session: Session, _transaction: SessionTransaction, connection: Any) -> None:
    scope = session.info.get(SCOPE) or session.info.get(SCOPE_OF, {}).get(SCOPE)
    if scope is None:
        connection.execute(READ_ONLY_SQL)
    else:
        connection.execute(_read_only_scope_sql(scope))


# Seconds the replica's last replayed transaction is behind, 0 when it has replayed all
# the WAL it received (an idle primary sends none, so "caught up" is not "old"), 0 on a
# primary (a read URL pointed at one), infinite when it cannot tell.
REPLICA_LAG_SQL = """
    SELECT CASE
        WHEN NOT pg_is_in_recovery() THEN 0
        WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
        ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 'Infinity')
    END::float8
"""
REPLICA_CHECK_S = 2.0  # how long a process trusts its last measure of the replica's lag


class Replica:
    """The replica's engine, and whether it is current enough to read from.

    The lag is measured at most every `REPLICA_CHECK_S` per process, by one caller while
    the others go by the previous measure; a replica that is down or too far behind is
    skipped (its reads go to the primary) until a later measure finds it back.
    """

    def __init__(self, engine: AsyncEngine, max_lag_s: float) -> None:
        self.engine = engine
        self.max_lag_s = max_lag_s
        self.lag_s: float | None = None  # the last measure; None when unreachable
        self._usable = False
        self._checked_at = -REPLICA_CHECK_S
        self._measuring = asyncio.Lock()

    async def usable(self) -> bool:
        if time.monotonic() - self._checked_at < REPLICA_CHECK_S or self._measuring.locked():
            return self._usable
        async with self._measuring:
            self.lag_s = await self._measure()
            self._usable = self.lag_s is not None and self.lag_s <= self.max_lag_s
            self._checked_at = time.monotonic()
            if not self._usable:
                log.warning("replica_skipped", lag_s=self.lag_s, max_lag_s=self.max_lag_s)
        return self._usable

    async def _measure(self) -> float | None:
        try:
            async with self.engine.connect() as connection:
                return float((await connection.execute(text(REPLICA_LAG_SQL))).scalar_one())
        except (SQLAlchemyError, OSError) as exc:
            log.warning("replica_unavailable", error=str(exc))
            return None


async def scope_transaction(
    session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID | None = None
) -> None:
    """Scope the session's transactions to a tenant (and acting user) from now on.

    Free when the transaction has not touched PostgreSQL yet (it will `SET LOCAL` when it
    does); one round trip when it already has a connection.
    """
    scope = (str(tenant_id), str(user_id or ""))
    session.info[SCOPE] = scope
    if SCOPED in session.info and session.info[SCOPED] != scope:
        await session.execute(_scope_sql(scope))
        session.info[SCOPED] = scope


class Database:
    """The process-wide engines and session factory (opened in the app lifespan)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.urls = resolve_urls(settings)
        self.engine = create_engine(
            self.urls.app,
            role=self.urls.app_role,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            statement_timeout_ms=settings.db_statement_timeout_ms,
        )
        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, autoflush=True, sync_session_class=ScopedSession
        )
        self._primary_reads = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=ReadOnlySession
        )
        self.replica: Replica | None = None
        self._replica_reads = self._primary_reads
        if self.urls.read is not None:
            self.replica = Replica(
                create_engine(
                    self.urls.read,
                    role=self.urls.app_role,
                    pool_size=settings.db_pool_size,
                    max_overflow=settings.db_max_overflow,
                    statement_timeout_ms=settings.db_statement_timeout_ms,
                    application_name="mercato-read",
                ),
                settings.database_read_max_lag_s,
            )
            self._replica_reads = async_sessionmaker(
                self.replica.engine, expire_on_commit=False, sync_session_class=ReadOnlySession
            )

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.replica is not None:
            await self.replica.engine.dispose()

    async def _replica_usable(self) -> bool:
        return self.replica is not None and await self.replica.usable()

    async def listen_connection(self) -> psycopg.AsyncConnection[Any]:
        """A connection of its own, in autocommit, as the app role (for LISTEN)."""
        conn = await psycopg.AsyncConnection.connect(
            libpq_url(self.urls.app),
            autocommit=True,
            connect_timeout=5,
            application_name="mercato-listen",
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
        )
        if self.urls.app_role is not None:
            await conn.execute(f"SET ROLE {quote_identifier(self.urls.app_role)}")
        return conn

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A transaction with no tenant set: tenant tables look empty from here."""
        async with unit_of_work(self.sessionmaker) as session:
            yield session

    @asynccontextmanager
    async def tenant_session(self, tenant_id: uuid.UUID) -> AsyncIterator[AsyncSession]:
        """One transaction scoped to a tenant; commits on success, rolls back on error."""
        async with unit_of_work(self.sessionmaker) as session:
            await set_tenant(session, tenant_id)
            yield session

    @asynccontextmanager
    async def read_session(self, tenant_id: uuid.UUID) -> AsyncIterator[AsyncSession]:
        """One `READ ONLY` transaction scoped to a tenant: on the replica when it is
        current enough, else on the primary. For reads that may lag the primary."""
        sessions = self._replica_reads if await self._replica_usable() else self._primary_reads
        async with unit_of_work(sessions) as session:
            session.info[SCOPE] = (str(tenant_id), "")
            yield session

    @asynccontextmanager
    async def read_following(self, primary: AsyncSession) -> AsyncIterator[AsyncSession]:
        """A request's read session: on the replica, scoped as `primary` is when the read
        begins; `primary` itself when there is no replica fit to read from."""
        if not await self._replica_usable():
            yield primary
            return
        async with unit_of_work(self._replica_reads) as session:
            session.info[SCOPE_OF] = primary.info
            yield session


AfterCommit = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession | Session, callback: AfterCommit) -> None:
    """Run `callback` once the session's transaction has committed (never on rollback).

    For side effects outside PostgreSQL that must not run for a change that did not
    happen: cache invalidation, real-time counters.
    """
    session.info.setdefault("after_commit", []).append(callback)


async def session_driver(session: AsyncSession) -> psycopg.AsyncConnection[Any]:
    """The psycopg connection of the session's transaction (begun, and scoped, if not yet),
    for what SQLAlchemy has no shape for: COPY, pipelines, column-wise fetches."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, psycopg.AsyncConnection)
    return driver


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session in one transaction: commit on success, roll back on error, then callbacks.

    The transaction begins with the session's first use, so a request that never touches
    PostgreSQL (a recommendation from Redis) costs neither a connection nor a commit.
    """
    session = sessionmaker()
    used = False
    try:
        yield session
        used = _used(session)
        if used:
            await session.commit()
    except BaseException:
        if _used(session):
            await session.rollback()
            await session.close()
        raise
    if used:
        await session.close()
    await _run_after_commit(session)


async def commit_midway(session: AsyncSession) -> None:
    """Commit the unit of work's transaction now and run its after-commit callbacks.

    For a unit of work that must release its row locks before slow work outside
    PostgreSQL (checkout, before calling a payment provider); the session carries on in a
    new transaction under the same scope, which its unit of work commits at the end.
    """
    await session.commit()
    await _run_after_commit(session)


async def _run_after_commit(session: AsyncSession) -> None:
    for callback in session.info.pop("after_commit", []):
        try:
            await callback()
        except Exception:
            log.exception("after_commit_callback_failed")


def _used(session: AsyncSession) -> bool:
    return session.in_transaction() or bool(session.new or session.dirty or session.deleted)


async def set_local(session: AsyncSession | AsyncConnection, name: str, value: str) -> None:
    """Set `name` for the current transaction (see `set_local_sql`)."""
    await session.execute(text(set_local_sql(name, value)))


async def set_tenant(session: AsyncSession | AsyncConnection, tenant_id: uuid.UUID) -> None:
    """Scope the current transaction to one tenant (`SET LOCAL app.tenant_id`)."""
    await set_local(session, "app.tenant_id", str(tenant_id))


async def set_actor(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Record the acting user for policies that let a person see their own rows."""
    await set_local(session, "app.user_id", str(user_id))


_database: Database | None = None


def init_database(settings: Settings) -> Database:
    global _database
    if _database is None:
        _database = Database(settings)
    return _database


def get_database() -> Database:
    if _database is None:
        raise RuntimeError("the database is not initialised; call init_database() first")
    return _database


async def close_database() -> None:
    global _database
    if _database is not None:
        await _database.dispose()
        _database = None

"""Alembic environment: migrations run as the owner role, one at a time across processes."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

import mercato.kernel.tables  # noqa: F401 - registers the kernel tables
from mercato.kernel.citus import distribute_if_coordinator
from mercato.kernel.orm import Base
from mercato.modules import import_all
from mercato.settings import get_settings

import_all("models")
target_metadata = Base.metadata

# Arbitrary constant: every process that migrates this database waits on the same lock.
MIGRATION_LOCK_ID = 727_274_001


def _owner_url() -> str:
    url = context.config.attributes.get("owner_url")
    if url:
        return str(url)
    from mercato.kernel.db import resolve_urls

    return resolve_urls(get_settings()).owner


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave tables we do not declare (procrastinate's queue, event partitions) alone."""
    if type_ == "table" and name is not None:
        return name in target_metadata.tables
    return True


def run_migrations_online() -> None:
    engine = create_engine(_owner_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                include_name=include_name,
                compare_type=True,
                transaction_per_migration=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
            # On a Citus coordinator: shard what the chain created (mercato.kernel.citus).
            distribute_if_coordinator(connection.connection.driver_connection)
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
            connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `mercato migrate`")
run_migrations_online()

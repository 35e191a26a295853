"""Shared set-up of the catalog benchmarks: a scratch database on the configured server,
migrated, and generated product rows.

The server is `MERCATO_DATABASE_URL` (the database part is replaced by a scratch one that
is dropped at the end), or the embedded PostgreSQL when that is unset; Redis likewise.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from mercato.simulation import generate_catalog


@contextmanager
def scratch_database() -> Iterator[str]:
    """Create, migrate and finally drop a database; yields its URL (env points at it)."""
    from mercato.kernel import embedded
    from mercato.kernel.migrate import upgrade
    from mercato.settings import get_settings

    server = os.environ.get("MERCATO_DATABASE_URL")
    if not server:
        get_settings.cache_clear()
        server = embedded.postgres_url(get_settings().data_dir)
    if not os.environ.get("MERCATO_REDIS_URL"):
        os.environ["MERCATO_REDIS_URL"] = embedded.redis_url(get_settings().data_dir)
    admin = make_url(server).set(drivername="postgresql", database="postgres")
    admin_dsn = admin.render_as_string(hide_password=False)
    name = f"mercato_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.set(database=name).render_as_string(hide_password=False)
    previous = os.environ.get("MERCATO_DATABASE_URL")
    os.environ["MERCATO_DATABASE_URL"] = url
    os.environ.setdefault("MERCATO_LOG_LEVEL", "WARNING")
    os.environ["MERCATO_RATE_LIMIT_ENABLED"] = "false"
    get_settings.cache_clear()
    try:
        upgrade(get_settings())
        yield url
    finally:
        if previous is None:
            os.environ.pop("MERCATO_DATABASE_URL", None)
        else:
            os.environ["MERCATO_DATABASE_URL"] = previous
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def product_rows(count: int, *, seed: int, prefix: str = "") -> list[dict[str, Any]]:
    """`count` generated product bodies (with product_id), image URLs made absolute."""
    rows: list[dict[str, Any]] = []
    for doc in generate_catalog(products=count, seed=seed).products:
        row = dict(doc)
        row["product_id"] = prefix + row["product_id"]
        row["image_url"] = f"https://cdn.shop.example/{row['product_id']}.png"
        rows.append(row)
    return rows


def create_tenant(dsn: str, slug: str) -> str:
    """A tenant row straight in the registry (benchmarks need no staff accounts)."""
    tenant_id = str(uuid.uuid4())
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO tenant (id, name, slug, status, settings) "
            "VALUES (%s, %s, %s, 'active', '{}')",
            (tenant_id, slug, slug),
        )
    return tenant_id

"""`0260_experiment_arms` gives every existing experiment the two arms its columns
describe, in every tenant (row-level security hides rows from a tenantless backfill), on a
database of its own migrated up to the revision before it."""

from __future__ import annotations

import secrets
import uuid

import psycopg
from alembic import command
from sqlalchemy.engine import make_url

from mercato.kernel import citus
from mercato.kernel.migrate import alembic_config
from mercato.settings import get_settings

REVISION = "0260_experiment_arms"


def _experiments(dsn: str, tenants: list[uuid.UUID]) -> dict[str, object]:
    arms: dict[str, object] = {}
    with psycopg.connect(dsn) as conn:
        for tenant in tenants:
            conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant),))
            for name, value in conn.execute("SELECT name, arms FROM experiment"):
                arms[name] = value
    return arms


def test_existing_experiments_get_their_two_arms() -> None:
    server = make_url(get_settings().database_url)
    name = f"mercato_arms_{secrets.token_hex(4)}"
    admin = server.set(drivername="postgresql", database="postgres")
    citus.create_database(admin.render_as_string(hide_password=False), name)
    url = server.set(database=name).render_as_string(hide_password=False)
    dsn = server.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    try:
        command.upgrade(alembic_config(url), f"{REVISION}-1")
        tenants = [uuid.uuid4(), uuid.uuid4()]
        with psycopg.connect(dsn) as conn:
            for n, (tenant, split) in enumerate(zip(tenants, (30, 0), strict=True)):
                conn.execute(
                    "INSERT INTO tenant (id, name, slug, status, settings) "
                    "VALUES (%s, %s, %s, 'active', '{}')",
                    (tenant, f"Shop {n}", f"shop-{n}-{secrets.token_hex(3)}"),
                )
                conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant),))
                conn.execute(
                    "INSERT INTO experiment (tenant_id, id, name, placement, control_strategy, "
                    "variant_strategy, traffic_split, metric, sequential, status) "
                    "VALUES (%s, %s, %s, 'product_page', 'auto', 'trending', %s, 'ctr', true, "
                    "'running')",
                    (tenant, uuid.uuid4(), f"split {split}", split),
                )
        command.upgrade(alembic_config(url), REVISION)
        assert _experiments(dsn, tenants) == {
            "split 30": [
                {"name": "control", "strategy": "auto", "weight": 30},
                {"name": "variant", "strategy": "trending", "weight": 70},
            ],
            "split 0": [
                {"name": "control", "strategy": "auto", "weight": 0},
                {"name": "variant", "strategy": "trending", "weight": 100},
            ],
        }
    finally:
        citus.drop_database(admin.render_as_string(hide_password=False), name)

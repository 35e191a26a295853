"""`mercato simulate` and `mercato import ga4`, through the functions the CLI calls."""

from __future__ import annotations

import io
import uuid
from collections import Counter

import psycopg
from rich.console import Console

from mercato.kernel.db import get_database
from mercato.modules.identity import resolve_tenant
from mercato.modules.tracking import commands
from tests.modules.tracking.helpers import new_shop


def _types(owner_dsn: str, tenant_id: str, source: str) -> Counter[str]:
    with psycopg.connect(owner_dsn) as conn:
        rows = conn.execute(
            "SELECT type, count(*) FROM event WHERE tenant_id = %s AND source = %s GROUP BY 1",
            (tenant_id, source),
        ).fetchall()
    return Counter(dict(rows))


async def test_simulating_twice_stores_each_event_once(client, owner_dsn) -> None:
    shop = await new_shop(client)
    database = get_database()
    tenant = await resolve_tenant(database, shop.tenant_id)
    first = await commands.simulate_into(database, tenant, days=2, users=60, products=40, seed=3)
    again = await commands.simulate_into(database, tenant, days=2, users=60, products=40, seed=3)
    assert first.accepted > 100
    assert (again.accepted, again.duplicates) == (0, first.accepted)
    assert sum(_types(owner_dsn, shop.tenant_id, "simulator").values()) == first.accepted


async def test_import_ga4_reads_the_dates_from_the_file_names(client, owner_dsn, tmp_path) -> None:
    shop = await new_shop(client)
    files = commands.simulate_to_ga4(tmp_path, days=2, users=60, products=40, seed=4)
    assert len(files) == 2
    database = get_database()
    counts = await commands.import_ga4(
        database,
        uuid.UUID(shop.tenant_id),
        tmp_path,
        start=None,
        end=None,
        console=Console(file=io.StringIO()),
    )
    assert counts.files == 2
    assert counts.rejected == counts.row_errors == 0
    assert sum(_types(owner_dsn, shop.tenant_id, "ga4_file").values()) == counts.accepted > 0

"""`mercato import ga4`, through the function the CLI calls."""

from __future__ import annotations

import io
import uuid

from rich.console import Console

from mercato.kernel.db import get_database
from mercato.modules.tracking import commands
from mercato.simulation import simulate_to_ga4
from tests.modules.tracking.helpers import new_shop, stored_types


async def test_import_ga4_reads_the_dates_from_the_file_names(client, owner_dsn, tmp_path) -> None:
    shop = await new_shop(client)
    files = simulate_to_ga4(tmp_path, days=2, users=60, products=40, seed=4)
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
    assert sum(stored_types(owner_dsn, shop.tenant_id, "ga4_file").values()) == counts.accepted > 0

"""Several batches in one transaction (an import) each store exactly their own rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from mercato.kernel.db import get_database
from mercato.modules.tracking import store_events
from mercato.modules.tracking.event_writer import COPY_THRESHOLD
from tests.modules.tracking.helpers import new_shop, stamp, view


async def test_batches_in_one_transaction_do_not_see_each_other(client, owner_dsn) -> None:
    shop = await new_shop(client)
    tenant = uuid.UUID(shop.tenant_id)
    moment = datetime.now(UTC) - timedelta(hours=1)
    size = COPY_THRESHOLD * 3
    async with get_database().tenant_session(tenant) as session:
        outcomes = [
            await store_events(
                session,
                tenant,
                [view(event_id=f"b{b}-{i}", timestamp=stamp(moment)) for i in range(size)],
            )
            for b in range(3)
        ]
        again = await store_events(session, tenant, [view(event_id="b0-0")])
    assert [(o.accepted, o.duplicates) for o in outcomes] == [(size, 0)] * 3
    assert (again.accepted, again.duplicates) == (0, 1)

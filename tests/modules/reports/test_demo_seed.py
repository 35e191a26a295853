"""The demo seed leaves rolled-up figures, branch recipients and a weekly schedule."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from mercato.demo import DemoContext
from mercato.demo import analytics as analytics_demo
from mercato.demo import reports as reports_demo
from mercato.kernel.db import get_database
from mercato.settings import get_settings
from tests.modules.analytics.events import Ev, send, utc_now
from tests.modules.tracking.helpers import new_shop


async def test_demo_steps_roll_up_and_map_branches(client, monkeypatch) -> None:
    shop = await new_shop(client)
    headers = shop.owner.headers
    for code, kind in (("STO-01", "store"), ("WH-01", "warehouse")):
        response = await client.put(
            f"{shop.base}/locations/{code}", json={"name": code, "kind": kind}, headers=headers
        )
        assert response.status_code == 201, response.text
    at = utc_now() - timedelta(days=1)
    await send(
        client, shop, [Ev("purchase", "u1", "s1", at, "STO-01", "p1", 1, Decimal("12.00"), "D1")]
    )

    async def this_tenant(_context: DemoContext) -> uuid.UUID:
        return uuid.UUID(shop.tenant_id)

    monkeypatch.setattr(analytics_demo, "demo_tenant_id", this_tenant)
    monkeypatch.setattr(reports_demo, "demo_tenant_id", this_tenant)
    context = DemoContext(get_settings(), get_database(), {})
    for _ in range(2):  # a step may run again after an interrupted start
        await analytics_demo.seed_rollups(context)
        await reports_demo.seed_reports(context)
    # With no tail left, the overview is served from the rollups alone.
    overview = await client.get(f"{shop.base}/analytics/overview", headers=headers)
    assert Decimal(overview.json()["revenue"]) == Decimal("12.00")
    branches = await client.get(f"{shop.base}/reports/branches", headers=headers)
    assert branches.json()["data"] == [
        {"location_code": "STO-01", "recipients": ["manager.sto-01@nordic-home.example"]}
    ]
    schedules = await client.get(f"{shop.base}/reports/schedules", headers=headers)
    [schedule] = schedules.json()["data"]
    assert (schedule["frequency"], schedule["weekday"], schedule["enabled"]) == ("weekly", 0, True)

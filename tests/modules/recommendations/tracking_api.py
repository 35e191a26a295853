"""Sending a hand-made shop's events through the tracking API, moved to the recent past."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx

BATCH = 1_000


def api_event(row: dict[str, Any], shift: float) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": row["type"],
        "user_id": row["user_id"],
        "session_id": row["session_id"],
        "product_id": row["product_id"],
        "timestamp": datetime.fromtimestamp(row["timestamp"] + shift, UTC).isoformat(),
    }
    if row["type"] == "purchase":
        event.update(revenue="100.00", currency="EUR", properties={"order_id": row["order_id"]})
    return event


async def send_events(
    client: httpx.AsyncClient, headers: dict[str, str], tenant: str, rows: list[dict[str, Any]]
) -> int:
    """Send `rows` (timestamps around `shop.T0`) so the newest lands an hour ago."""
    shift = time.time() - 3_600 - max(row["timestamp"] for row in rows)
    events = [api_event(row, shift) for row in rows]
    accepted = 0
    for start in range(0, len(events), BATCH):
        response = await client.post(
            f"/api/v1/tenants/{tenant}/events/batch",
            json={"events": events[start : start + BATCH]},
            headers=headers,
        )
        assert response.status_code == 202, response.text
        assert response.json()["rejected"] == [], response.text
        accepted += response.json()["accepted"]
    return accepted

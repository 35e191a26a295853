"""Putting a hand-made test catalog into a tenant through the catalog's batch API, so
recommendations are described from real catalog rows."""

from __future__ import annotations

from typing import Any

import httpx


def batch_item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "product_id": row["product_id"],
        "name": row["name"],
        "price": f"{row['price']:.2f}",
        "currency": "EUR",
        "description": row.get("description") or None,
        "category": row.get("category"),
        "brand": row.get("brand"),
        "image_url": f"https://img.example/{row['product_id']}.png",
        "available": row.get("available", True),
        "attributes": row.get("attributes") or {},
    }


async def stock_the_catalog(
    client: httpx.AsyncClient, headers: dict[str, str], tenant: str, rows: list[dict[str, Any]]
) -> None:
    response = await client.post(
        f"/api/v1/tenants/{tenant}/products/batch",
        json={"products": [batch_item(row) for row in rows]},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["failed"] == [], response.text

"""Builders for small hand-made shops: a furniture catalog and events by the minute."""

from __future__ import annotations

from typing import Any

from mercato.modules.recommendations.event_log import CatalogTable, EventLog
from mercato.modules.recommendations.interactions import (
    InteractionData,
    InteractionSettings,
    build_interactions,
)

T0 = 1_700_000_000.0
MINUTE = 60.0
DAY = 86_400.0


def product(product_id: str, name: str, category: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "product_id": product_id,
        "name": name,
        "brand": "Northwood",
        "category": category,
        "description": "",
        "attributes": {},
        "price": 100.0,
        "available": True,
        "deleted": False,
        "created_at": T0 - 30 * DAY,
    }
    row.update(overrides)
    return row


def furniture(**changes: dict[str, Any]) -> list[dict[str, Any]]:
    """Ten products in four categories; `changes` overrides fields per product id."""
    rows = [
        product(
            "oak-chair",
            "Oak Chair",
            "Furniture > Chairs",
            description="solid oak dining chair",
            attributes={"material": "oak"},
        ),
        product(
            "oak-table",
            "Oak Dining Table",
            "Furniture > Tables",
            description="solid oak dining table",
            attributes={"material": "oak"},
        ),
        product(
            "pine-chair",
            "Pine Chair",
            "Furniture > Chairs",
            description="pine dining chair",
            attributes={"material": "pine"},
        ),
        product(
            "oak-stool",
            "Oak Bar Stool",
            "Furniture > Chairs",
            description="oak stool",
            attributes={"material": "oak"},
        ),
        product(
            "grey-sofa",
            "Grey Sofa",
            "Furniture > Sofas",
            brand="Comfy",
            description="three seat sofa",
        ),
        product(
            "blue-sofa",
            "Blue Sofa",
            "Furniture > Sofas",
            brand="Comfy",
            description="two seat sofa",
        ),
        product("cushion", "Velvet Cushion", "Decor", brand="Comfy", description="sofa cushion"),
        product("throw", "Wool Throw", "Decor", brand="Comfy", description="sofa throw blanket"),
        product("lamp", "Brass Lamp", "Decor > Lighting", description="brass table lamp"),
        product("rug", "Jute Rug", "Decor", description="natural jute rug"),
    ]
    for row in rows:
        row.update(changes.get(row["product_id"], {}))
    return rows


def visit(
    user: str,
    session: str,
    products: list[str],
    *,
    start: float = T0,
    kind: str = "view_item",
    order: str | None = None,
) -> list[dict[str, Any]]:
    """One visit: the products in order, a minute apart."""
    return [
        {
            "user_id": user,
            "session_id": session,
            "type": kind,
            "product_id": product_id,
            "timestamp": start + step * MINUTE,
            "order_id": order,
        }
        for step, product_id in enumerate(products)
    ]


def dataset(
    events: list[dict[str, Any]],
    catalog: list[dict[str, Any]] | None = None,
    *,
    settings: InteractionSettings | None = None,
    now: float | None = None,
) -> InteractionData:
    return build_interactions(
        EventLog.from_rows(events),
        CatalogTable.from_rows(catalog if catalog is not None else furniture()),
        settings=settings,
        now=now,
    )


TASTES = {
    "chairs": ["oak-chair", "pine-chair", "oak-stool", "oak-table"],
    "sofas": ["grey-sofa", "blue-sofa", "cushion", "throw"],
    "decor": ["lamp", "rug", "cushion", "throw"],
}


def returning_shoppers(days: int = 28, shoppers_per_taste: int = 10) -> list[dict[str, Any]]:
    """Shoppers of three tastes visiting every few days, browsing within their taste
    (deterministic: the pattern is a function of shopper and day)."""
    events: list[dict[str, Any]] = []
    for taste, products in TASTES.items():
        for number in range(shoppers_per_taste):
            user = f"{taste}-{number}"
            for day in range(number % 3, days, 3):
                first = (number + day) % len(products)
                browsed = [products[first], products[(first + 1) % len(products)]]
                session = f"{user}-d{day}"
                events += visit(user, session, browsed, start=T0 + day * DAY + number * MINUTE)
                if (number + day) % 7 == 0:
                    events += visit(
                        user,
                        session,
                        [browsed[1]],
                        kind="purchase",
                        order=session,
                        start=T0 + day * DAY + number * MINUTE + 300,
                    )
    return events

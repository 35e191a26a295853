"""A random but reproducible shop history, and the ground truth computed from it in Python.

The truth functions read only the raw events generated here: they share no code with the
rollups or their queries.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.modules.tracking.helpers import Shop, stamp

PRODUCTS = [f"p{i}" for i in range(1, 9)]
PRICES = {p: Decimal(f"{5 + 3 * i}.25") for i, p in enumerate(PRODUCTS)}
LOCATIONS = ["", "B1", "B2"]


@dataclass(frozen=True)
class Ev:
    type: str
    user_id: str
    session_id: str | None
    at: datetime
    location: str
    product_id: str | None = None
    quantity: int | None = None
    revenue: Decimal | None = None
    order_id: str | None = None

    def body(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": self.type,
            "user_id": self.user_id,
            "timestamp": stamp(self.at),
            "event_id": uuid.uuid4().hex,
        }
        if self.session_id:
            doc["session_id"] = self.session_id
        if self.location:
            doc["location_code"] = self.location
        if self.product_id:
            doc["product_id"] = self.product_id
        if self.quantity is not None:
            doc["quantity"] = self.quantity
            doc["price"] = str(PRICES.get(self.product_id or "", Decimal("9.99")))
        if self.revenue is not None:
            doc["revenue"] = str(self.revenue)
            doc["currency"] = "EUR"
        if self.order_id:
            doc["properties"] = {"order_id": self.order_id}
        return doc


def history(now: datetime, *, seed: int = 7, users: int = 30, days: int = 45) -> list[Ev]:
    rnd = random.Random(seed)
    events: list[Ev] = []
    orders = 0
    for u in range(users):
        user = f"user{u}"
        for s in range(rnd.randint(1, 4)):
            start = now - timedelta(days=rnd.uniform(0.2, days), seconds=rnd.randint(0, 3600))
            session = None if u % 7 == 0 else f"{user}-s{s}"
            location = rnd.choice(LOCATIONS)
            at = start
            cart: list[str] = []
            for _ in range(rnd.randint(1, 5)):
                product = rnd.choice(PRODUCTS)
                at += timedelta(seconds=rnd.randint(5, 200))
                events.append(Ev("view_item", user, session, at, location, product))
                if rnd.random() < 0.4:
                    at += timedelta(seconds=10)
                    events.append(Ev("add_to_cart", user, session, at, location, product, 1))
                    cart.append(product)
            if rnd.random() < 0.3:
                events.append(Ev("page_view", user, session, at, location))
            if cart and rnd.random() < 0.6:
                at += timedelta(seconds=30)
                events.append(Ev("begin_checkout", user, session, at, location))
                if rnd.random() < 0.7:
                    orders += 1
                    at += timedelta(seconds=30)
                    for product in sorted(set(cart)):
                        qty = cart.count(product)
                        events.append(
                            Ev(
                                "purchase",
                                user,
                                session,
                                at,
                                location,
                                product,
                                qty,
                                PRICES[product] * qty,
                                f"o{seed}-{orders}",
                            )
                        )
    return events


async def send(client: httpx.AsyncClient, shop: Shop, events: list[Ev]) -> None:
    for i in range(0, len(events), 500):
        response = await client.post(
            f"{shop.base}/events/batch",
            json={"events": [e.body() for e in events[i : i + 500]]},
            headers=shop.key_headers,
        )
        assert response.status_code == 202, response.text
        assert response.json()["accepted"] == len(events[i : i + 500])


class Truth:
    """Metrics straight from the generated events, in the tenant's zone."""

    def __init__(self, events: list[Ev], zone: str) -> None:
        self.events = events
        self.tz = ZoneInfo(zone)

    def day(self, e: Ev) -> date:
        return e.at.astimezone(self.tz).date()

    def session_key(self, e: Ev) -> str:
        return e.session_id or f"u:{e.user_id}:{self.day(e)}"

    def select(self, start: date, end: date, location: str | None = None) -> list[Ev]:
        return [
            e
            for e in self.events
            if start <= self.day(e) <= end and (location is None or e.location == location)
        ]

    def kpis(self, events: list[Ev]) -> dict[str, Any]:
        sessions = {self.session_key(e) for e in events}
        buying = {self.session_key(e) for e in events if e.type == "purchase"}
        orders = {e.order_id for e in events if e.type == "purchase"}
        revenue = sum((e.revenue or Decimal(0) for e in events if e.type == "purchase"), Decimal(0))
        return {
            "sessions": len(sessions),
            "users": len({e.user_id for e in events}),
            "product_views": sum(e.type == "view_item" for e in events),
            "add_to_carts": sum(e.type == "add_to_cart" for e in events),
            "begin_checkouts": sum(e.type == "begin_checkout" for e in events),
            "purchases": len(orders),
            "units": sum(e.quantity or 0 for e in events if e.type == "purchase"),
            "revenue": revenue,
            "conversion_rate": len(buying) / len(sessions) if sessions else 0.0,
            "average_order_value": (revenue / len(orders)).quantize(Decimal("0.01"))
            if orders
            else Decimal("0.00"),
        }

    def funnel(self, events: list[Ev]) -> list[int]:
        steps = ("view_item", "add_to_cart", "begin_checkout", "purchase")
        return [len({self.session_key(e) for e in events if e.type == s}) for s in steps]

    def closed_funnel(self, events: list[Ev]) -> list[int]:
        """Per step, the sessions whose first time of it is at or after their first time
        of the step before, for every step up to it (GA4's closed funnel)."""
        steps = ("view_item", "add_to_cart", "begin_checkout", "purchase")
        firsts: dict[str, dict[str, datetime]] = defaultdict(dict)
        for e in events:
            if e.type in steps:
                seen = firsts[self.session_key(e)]
                seen[e.type] = min(e.at, seen.get(e.type, e.at))
        counts = [0] * len(steps)
        for seen in firsts.values():
            previous: datetime | None = None
            for index, step in enumerate(steps):
                at = seen.get(step)
                if at is None or (previous is not None and at < previous):
                    break
                counts[index] += 1
                previous = at
        return counts

    def by_bucket(self, events: list[Ev], bucket: Any) -> dict[date, list[Ev]]:
        groups: dict[date, list[Ev]] = defaultdict(list)
        for e in events:
            groups[bucket(self.day(e))].append(e)
        return groups

    def products(self, events: list[Ev]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = defaultdict(
            lambda: {"views": 0, "units": 0, "revenue": Decimal(0), "purchases": 0}
        )
        for e in events:
            if e.product_id is None:
                continue
            row = found[e.product_id]
            if e.type == "view_item":
                row["views"] += 1
            elif e.type == "purchase":
                row["units"] += e.quantity or 0
                row["revenue"] += e.revenue or Decimal(0)
                row["purchases"] += 1
        return found


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)

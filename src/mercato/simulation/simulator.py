"""A deterministic shop simulator: realistic behavioural events for demos, tests, benchmarks.

`simulate()` yields API.md tracking events in time order. The same arguments always yield
the same events, and every event has a stable `event_id`, so writing a simulation twice
through the ingestion path stores it once.

How the shoppers behave:
- Each shopper belongs to a segment (a department they mostly buy from) and has two
  favourite leaf categories; a visit browses related categories in sequence, moving on
  to complementary categories (sofa → cushions) after adding to the cart.
- A third of visits search, with queries built from product-name words; some misspell a
  word, some look for things the shop does not sell (zero results).
- Carts survive between visits: a returning shopper who comes back to the cart (or adds
  to it) may check it out. Most carts are abandoned; some orders hold several lines.
  Every purchase follows a `begin_checkout` in its session; funnel rates are in
  published e-commerce benchmark ranges (`visits`), about 3 % of sessions convert.
- Shoppers have a home store and its time zone; web traffic peaks in the evening and on
  Sundays, store visits (Monday to Saturday, 9:00 to 20:00, about 1 % of sessions) are
  purchases at a store, scanned into a cart and checked out at the till.
- Session ids are `<user_id>-<session start, epoch seconds>`; event ids are
  `sim<seed>-<session_id>-<n>`.

Planted behaviours (all listed on `SimulationPlan`, so tests need not hard-code them):
- `bundles`: 10 anchor products whose partner is added in the same cart 70 % of the time.
- `gap_queries`: searches for products the shop lacks; always `results_count` 0.
- `typo_queries`: misspelt words; these searches report the intended word's results.
- `abandoners`: ~3 % of shoppers add to cart (and often begin checkout) but never buy.
- `trending_product_id`: featured on the home page in the last 7 days, so its views jump.
- `experiment`: the product-page recommendation variant gets about twice the control's clicks.
- `flagship_location`: the first store draws the most shoppers and so the most revenue.
- loyal shoppers (8 %) visit about 13 times as often as casual ones.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from operator import itemgetter

from mercato.modules.tracking import TrackedEvent
from mercato.simulation.catalog import Catalog, LocationDoc
from mercato.simulation.plan import SimulationPlan
from mercato.simulation.visits import ShopperVisits
from mercato.simulation.world import World, build_world

__all__ = [
    "EventSummary",
    "OrderLine",
    "SimulatedOrder",
    "orders_from_events",
    "plan_simulation",
    "simulate",
    "simulate_orders",
    "summarize",
]

WINDOW_MS = 15 * 60_000


def plan_simulation(
    *,
    catalog: Catalog,
    locations: Sequence[LocationDoc],
    days: int,
    users: int,
    seed: int,
    end: datetime | None = None,
) -> SimulationPlan:
    """The shoppers and planted behaviours `simulate()` uses for the same arguments."""
    return build_world(catalog, locations, days, users, seed, end).plan


def simulate(
    *,
    catalog: Catalog,
    locations: Sequence[LocationDoc],
    days: int,
    users: int,
    seed: int,
    end: datetime | None = None,
) -> Iterator[TrackedEvent]:
    """Events of `users` shoppers over the `days` before `end` (default: today 00:00 UTC).

    Events come in timestamp order (ties keep their order within a visit), as plain dicts
    holding only the fields that apply. Warehouses in `locations` are never a home store.
    """
    world = build_world(catalog, locations, days, users, seed, end)
    return _in_time_order(world)


def _in_time_order(world: World) -> Iterator[TrackedEvent]:
    """Generate visits in start order; release events once no later visit can precede them.

    A visit never starts before the one generated previously, so every buffered event
    earlier than the next visit's start is final.
    """
    schedule = world.schedule()
    visits = ShopperVisits(world)
    buffer = visits.buffer
    first = itemgetter(0)
    window_end = -1
    for shopper, start, in_store in zip(
        schedule.shopper, schedule.start_ms, schedule.in_store, strict=True
    ):
        if start >= window_end:
            buffer.sort()
            ready = bisect_left(buffer, start, key=first)
            for entry in buffer[:ready]:
                yield entry[2]
            del buffer[:ready]
            window_end = start + WINDOW_MS
        if in_store:
            visits.store_visit(shopper, start)
        else:
            visits.web_visit(shopper, start)
    buffer.sort()
    for entry in buffer:
        yield entry[2]
    buffer.clear()


@dataclass(frozen=True)
class OrderLine:
    product_id: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


@dataclass
class SimulatedOrder:
    """An order as the commerce module's demo seed needs it, consistent with the events."""

    order_id: str
    user_id: str
    email: str
    location_code: str | None
    channel: str  # "web" or "store"
    placed_at: datetime
    currency: str
    items: list[OrderLine] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.line_total for line in self.items), Decimal("0"))


def orders_from_events(
    events: Iterable[TrackedEvent], plan: SimulationPlan
) -> Iterator[SimulatedOrder]:
    """The orders behind the purchase events, in the order they were placed.

    Lines are grouped by `properties.order_id`; an order's total is the sum of its lines'
    `revenue`, so orders and purchase events agree to the cent.
    """
    emails = {shopper.user_id: shopper.email for shopper in plan.shoppers}
    orders: dict[str, SimulatedOrder] = {}
    for event in events:
        if event.get("type") != "purchase":
            continue
        properties = event["properties"]
        order = orders.get(properties["order_id"])
        if order is None:
            order = orders[properties["order_id"]] = SimulatedOrder(
                order_id=properties["order_id"],
                user_id=event["user_id"],
                email=emails.get(event["user_id"], f"{event['user_id']}@example.com"),
                location_code=event.get("location_code"),
                channel=properties.get("channel", "web"),
                placed_at=datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")),
                currency=event["currency"],
            )
        order.items.append(
            OrderLine(
                product_id=event["product_id"],
                quantity=event["quantity"],
                unit_price=Decimal(event["price"]),
                line_total=Decimal(event["revenue"]),
            )
        )
    yield from orders.values()


def simulate_orders(
    *,
    catalog: Catalog,
    locations: Sequence[LocationDoc],
    days: int,
    users: int,
    seed: int,
    end: datetime | None = None,
) -> list[SimulatedOrder]:
    """The orders of `simulate()` with the same arguments (runs the simulation)."""
    plan = plan_simulation(
        catalog=catalog, locations=locations, days=days, users=users, seed=seed, end=end
    )
    events = simulate(
        catalog=catalog, locations=locations, days=days, users=users, seed=seed, end=end
    )
    return list(orders_from_events(events, plan))


@dataclass
class EventSummary:
    """Counts that should survive any faithful copy of an event stream."""

    events: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    users: int = 0
    sessions: int = 0
    orders: int = 0
    revenue: Decimal = Decimal("0")
    zero_result_searches: int = 0
    first_timestamp: str | None = None
    last_timestamp: str | None = None


def summarize(events: Iterable[TrackedEvent]) -> EventSummary:
    """Counts per type, distinct users/sessions/orders, revenue and the time span."""
    summary = EventSummary()
    users: set[str] = set()
    sessions: set[str] = set()
    orders: set[str] = set()
    revenue_cents = 0
    for event in events:
        summary.events += 1
        kind = event.get("type", "")
        summary.by_type[kind] += 1
        users.add(event.get("user_id", ""))
        if "session_id" in event:
            sessions.add(event["session_id"])
        if kind == "purchase":
            revenue_cents += round(Decimal(event.get("revenue", "0")) * 100)
            orders.add(str(event.get("properties", {}).get("order_id", event.get("event_id"))))
        elif kind == "search" and event.get("results_count") == 0:
            summary.zero_result_searches += 1
        stamp = event.get("timestamp")
        if stamp is not None:
            if summary.first_timestamp is None or stamp < summary.first_timestamp:
                summary.first_timestamp = stamp
            if summary.last_timestamp is None or stamp > summary.last_timestamp:
                summary.last_timestamp = stamp
    summary.users, summary.sessions, summary.orders = len(users), len(sessions), len(orders)
    summary.revenue = Decimal(revenue_cents) / 100
    return summary

"""Live simulated shoppers: visits sent through the public API as a storefront would.

`mercato demo traffic` and `serve --demo` run this stream so the demo keeps moving: each
visit is a session of one shopper (a returning shopper of the demo's history, or a new
visitor) who browses product pages, sees the product-page recommendations (asked for
with the shopper and product, like the JS SDK's widget, so the running experiment
assigns them an arm), may click one, may add to a real cart, and sometimes checks out.

What goes over the wire is what a storefront sends:
- with the publishable key (and its allowed `Origin`): the events, one batch per visit
  (`POST {T}/events/batch`, as the SDK batches them), recommendations, the cart;
- with the secret key, when there is one: `POST {T}/checkout` with `manual` payment and
  the move to `paid`, which a browser key may not do (a storefront's payment provider
  does it server-side). The order's lines then go out as `purchase` events, so orders,
  stock, tracking and the live counters agree. Without a secret key visits stop at
  checkout.

Rates are the simulator's (`visits`), so the stream converts like the history. Visits
arrive as a Poisson process at `rate` per second; outbound calls go through the kernel's
egress client like every other outbound HTTP call.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from bisect import bisect
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any

import httpx

from mercato.kernel import egress
from mercato.modules.tracking import cents_to_decimal_string
from mercato.simulation.catalog import generate_catalog, generate_locations
from mercato.simulation.plan import DEVICES, VISIT_RATES
from mercato.simulation.visits import (
    ADD_TO_CART_BASE,
    ADD_TO_CART_PROPENSITY,
    CHECKOUT_BASE,
    CHECKOUT_PROPENSITY,
    MEAN_EXTRA_VIEWS,
    PURCHASE_AFTER_CHECKOUT,
)
from mercato.simulation.world import World, build_world

NEW_VISITOR_SHARE = 0.3  # sessions of first-time visitors; the rest are returning shoppers
MAX_VIEWS = 8
RECOMMENDATIONS_SEEN = 0.6  # product pages where the shopper scrolls to the widget
RECOMMENDATIONS_SHOWN = 4  # one row of the product-page widget
# Chance a shown list gets a click, per arm of the demo experiment (mercato.demo.experiments):
# the blend of the control earns more clicks than plain similar or trending products, so
# the experiment has a winner; an arm of another experiment gets the default.
CLICK_RATE = {"control": 0.14, "similar": 0.08, "trending": 0.1}
DEFAULT_CLICK_RATE = 0.1
MAX_CONCURRENT_VISITS = 32
TIMEOUT_S = 30.0


@dataclass(frozen=True)
class TrafficTarget:
    """Where the stream goes: a server, a tenant and the keys a storefront would hold."""

    url: str
    tenant_id: str
    publishable_key: str
    origin: str  # an origin listed on the publishable key
    secret_key: str | None = None  # checkouts need it; without, visits stop at checkout

    @property
    def api(self) -> str:
        return f"{self.url.rstrip('/')}/api/v1/tenants/{self.tenant_id}"


@dataclass
class TrafficStats:
    """What the stream has done so far (for its status line and the tests)."""

    visits: int = 0
    events: int = 0
    carts: int = 0
    checkouts: int = 0
    orders: int = 0
    revenue_cents: int = 0
    exposed: Counter[str] = field(default_factory=Counter)  # visits shown a list, per arm
    errors: int = 0
    last_error: str | None = None

    def line(self, currency: str) -> str:
        arms = ", ".join(f"{arm} {count}" for arm, count in sorted(self.exposed.items()))
        revenue = cents_to_decimal_string(self.revenue_cents)
        error = f" · last error: {self.last_error}" if self.last_error else ""
        return (
            f"{self.visits:,} visits · {self.events:,} events · {self.carts:,} carts · "
            f"{self.checkouts:,} checkouts · {self.orders:,} orders · {revenue} {currency} · "
            f"recommendations seen: {arms or 'none yet'} · {self.errors:,} errors{error}"
        )


@dataclass
class _Shopper:
    user_id: str
    email: str
    propensity: float
    device: str
    home: str | None
    favourite: int | None  # a favourite leaf category, None for a new visitor


class _Visit:
    """One session: its events (sent as one batch) and its cart."""

    def __init__(self, shopper: _Shopper, session_id: str) -> None:
        self.shopper = shopper
        self.session_id = session_id
        self.events: list[dict[str, Any]] = []
        self.cart_id: str | None = None
        self.lines: dict[int, int] = {}

    def add(self, kind: str, **fields: Any) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        event = {
            "type": kind,
            "user_id": self.shopper.user_id,
            "session_id": self.session_id,
            "event_id": f"live-{uuid.uuid4().hex}",
            "timestamp": stamp,
            **fields,
        }
        if self.shopper.home is not None:
            event["location_code"] = self.shopper.home
        self.events.append(event)


class TrafficStream:
    """Visits of the world's shoppers (and new visitors) against `target`."""

    def __init__(self, world: World, target: TrafficTarget, *, seed: int | None = None) -> None:
        self.world = world
        self.target = target
        self.stats = TrafficStats()
        self._rng = random.Random(seed)  # noqa: S311 - simulation, not security
        self._shop = world.shop
        self._stores = world.plan.store_locations
        weights = [VISIT_RATES[int(k)] for k in world.klass]
        self._returning = list(accumulate(weights))
        self._leaves = list(accumulate(world.shop.leaf_weight))
        self._index_of = {product_id: i for i, product_id in enumerate(world.shop.product_ids)}
        self._public = {"X-API-Key": target.publishable_key, "Origin": target.origin}
        self._secret = {"X-API-Key": target.secret_key} if target.secret_key else None

    # -- who visits -----------------------------------------------------------------

    def _shopper(self) -> _Shopper:
        rnd = self._rng.random
        if rnd() < NEW_VISITOR_SHARE:
            user_id = f"live-{uuid.uuid4().hex[:12]}"
            return _Shopper(
                user_id=user_id,
                email=f"{user_id}@example.com",
                propensity=self._rng.betavariate(2.0, 5.0),
                device=self._rng.choice(DEVICES),
                home=self._rng.choice(self._stores) if self._stores else None,
                favourite=None,
            )
        number = bisect(self._returning, rnd() * self._returning[-1])
        shopper, population = self.world.plan.shoppers[number], self.world.population
        return _Shopper(
            user_id=shopper.user_id,
            email=shopper.email,
            propensity=population.propensity[number],
            device=population.device[number],
            home=shopper.home_location,
            favourite=population.favourite_leaves[number][0],
        )

    def _leaf(self, shopper: _Shopper) -> int:
        if shopper.favourite is not None and self._rng.random() < 0.5:
            return shopper.favourite
        return bisect(self._leaves, self._rng.random() * self._leaves[-1])

    # -- the API ----------------------------------------------------------------------

    async def _call(
        self,
        http: httpx.AsyncClient,
        method: str,
        path: str,
        headers: dict[str, str],
        body: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """The answer's JSON, or None when the call failed (counted, never raised)."""
        try:
            response = await http.request(
                method, f"{self.target.api}{path}", headers=headers, json=body, params=params
            )
        except (httpx.HTTPError, egress.EgressRefused) as exc:
            self._failed(f"{method} {path}: {type(exc).__name__}")
            return None
        if response.status_code >= 400:
            self._failed(f"{method} {path}: {response.status_code}")
            return None
        return response.json() if response.content else {}

    def _failed(self, what: str) -> None:
        self.stats.errors += 1
        self.stats.last_error = what

    # -- one visit ----------------------------------------------------------------------

    async def visit(self, http: httpx.AsyncClient) -> None:
        """One session, start to end; an answer of an unexpected shape counts as an error."""
        try:
            await self._visit(http)
        except (KeyError, TypeError, ValueError) as exc:
            self._failed(f"unexpected answer: {type(exc).__name__}")

    async def _visit(self, http: httpx.AsyncClient) -> None:
        """One session; its events go out in one batch at the end, as the SDK batches."""
        shopper = self._shopper()
        visit = _Visit(shopper, f"{shopper.user_id}-{time.time_ns() // 1_000_000}")
        shop, rnd = self._shop, self._rng.random
        leaf = self._leaf(shopper)
        page = shop.page_of_leaf[leaf] if rnd() < 0.55 else "/"
        visit.add("page_view", properties={"page": page, "device": shopper.device})
        product: int | None = None
        for _ in range(min(MAX_VIEWS, 1 + int(self._rng.expovariate(1 / MEAN_EXTRA_VIEWS)))):
            if product is None:
                product = shop.pick_in_leaf(leaf, rnd())
            leaf = shop.leaf_of[product]
            visit.add(
                "view_item",
                product_id=shop.product_ids[product],
                price=shop.prices[product],
                currency=shop.currency,
            )
            clicked = None
            if rnd() < RECOMMENDATIONS_SEEN:
                clicked = await self._recommendations(http, visit, product)
            if shop.available[product] and rnd() < self._add_chance(shopper, product):
                await self._add_to_cart(http, visit, product)
            product = clicked
            if product is None and rnd() < 0.3:
                leaf = self._leaf(shopper)
        if visit.lines and rnd() < CHECKOUT_BASE + CHECKOUT_PROPENSITY * shopper.propensity:
            await self._checkout(http, visit)
        self.stats.visits += 1
        if await self._call(http, "POST", "/events/batch", self._public, {"events": visit.events}):
            self.stats.events += len(visit.events)

    def _add_chance(self, shopper: _Shopper, product: int) -> float:
        chance = ADD_TO_CART_BASE + ADD_TO_CART_PROPENSITY * shopper.propensity
        cents = self._shop.price_cents[product]
        return chance * (1.6 if cents < 5_000 else 0.5 if cents > 50_000 else 1.0)

    async def _recommendations(
        self, http: httpx.AsyncClient, visit: _Visit, product: int
    ) -> int | None:
        """The product page's widget: asked for, shown (impressions), maybe clicked."""
        shop = self._shop
        params = {
            "placement": "product_page",
            "product_id": shop.product_ids[product],
            "user_id": visit.shopper.user_id,
            "limit": RECOMMENDATIONS_SHOWN,
        }
        found = await self._call(http, "GET", "/recommendations", self._public, params=params)
        if not found or not found.get("data"):
            return None
        context = {"placement": "product_page", "strategy": found["strategy"]}
        arm = found.get("variant")
        if found.get("experiment_id") and arm:
            context |= {"experiment_id": found["experiment_id"], "variant": arm}
            self.stats.exposed[arm] += 1
        shown = [item["product_id"] for item in found["data"]]
        for position, product_id in enumerate(shown):
            visit.add(
                "impression", product_id=product_id, properties={"position": position}, **context
            )
        if self._rng.random() >= CLICK_RATE.get(arm or "", DEFAULT_CLICK_RATE):
            return None
        chosen = self._rng.choice(shown)
        visit.add("click", product_id=chosen, **context)
        return self._index_of.get(chosen)

    async def _add_to_cart(self, http: httpx.AsyncClient, visit: _Visit, product: int) -> None:
        shop = self._shop
        if visit.cart_id is None:
            body = {"location_code": visit.shopper.home} if visit.shopper.home else {}
            cart = await self._call(http, "POST", "/carts", self._public, body)
            if cart is None:
                return
            visit.cart_id = str(cart["id"])
            self.stats.carts += 1
        quantity = 1
        line = {"product_id": shop.product_ids[product], "quantity": quantity}
        if await self._call(http, "POST", f"/carts/{visit.cart_id}/items", self._public, line):
            visit.lines[product] = visit.lines.get(product, 0) + quantity
            visit.add(
                "add_to_cart",
                product_id=shop.product_ids[product],
                quantity=quantity,
                price=shop.prices[product],
                currency=shop.currency,
            )

    async def _checkout(self, http: httpx.AsyncClient, visit: _Visit) -> None:
        """Checkout begun; with a secret key, most often an order paid and its purchases."""
        shop = self._shop
        totals = {p: shop.price_cents[p] * q for p, q in visit.lines.items()}
        value = cents_to_decimal_string(sum(totals.values()))
        visit.add(
            "begin_checkout",
            currency=shop.currency,
            properties={"value": value, "items": len(visit.lines)},
        )
        self.stats.checkouts += 1
        if self._secret is None or self._rng.random() >= PURCHASE_AFTER_CHECKOUT:
            return
        body = {
            "cart_id": visit.cart_id,
            "email": visit.shopper.email,
            "payment_provider": "manual",
            "user_id": visit.shopper.user_id,
        }
        headers = {**self._secret, "Idempotency-Key": visit.session_id}
        placed = await self._call(http, "POST", "/checkout", headers, body)
        if placed is None:
            return  # e.g. 409 insufficient-stock: the shopper leaves
        order_id = str(placed["order"]["id"])
        await self._call(
            http, "POST", f"/orders/{order_id}/transitions", self._secret, {"to": "paid"}
        )
        self.stats.orders += 1
        self.stats.revenue_cents += sum(totals.values())
        for product, quantity in visit.lines.items():
            visit.add(
                "purchase",
                product_id=shop.product_ids[product],
                quantity=quantity,
                price=shop.prices[product],
                revenue=cents_to_decimal_string(totals[product]),
                currency=shop.currency,
                properties={"order_id": order_id, "order_revenue": value, "channel": "web"},
            )

    # -- the stream ---------------------------------------------------------------------

    async def run(
        self,
        rate: float,
        *,
        duration_s: float | None = None,
        on_tick: Callable[[TrafficStats], None] | None = None,
    ) -> TrafficStats:
        """Visits arriving at `rate` per second (Poisson), for `duration_s` or until cancelled.

        At most MAX_CONCURRENT_VISITS run at once: a slow server slows the stream down
        instead of piling visits up."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        deadline = None if duration_s is None else time.monotonic() + duration_s
        running: set[asyncio.Task[None]] = set()
        async with egress.http_client(timeout_s=TIMEOUT_S) as http:
            try:
                while deadline is None or time.monotonic() < deadline:
                    await asyncio.sleep(self._rng.expovariate(rate))
                    if len(running) >= MAX_CONCURRENT_VISITS:
                        # The tasks' done callbacks (added first) take them out of `running`.
                        await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                    task = asyncio.create_task(self.visit(http))
                    running.add(task)
                    task.add_done_callback(running.discard)
                    if on_tick is not None:
                        on_tick(self.stats)
                if running:
                    await asyncio.wait(running)
            finally:
                for task in running:
                    task.cancel()
        return self.stats


def shop_stream(target: TrafficTarget, *, products: int, users: int, seed: int) -> TrafficStream:
    """The stream of the shop `simulate` made with these arguments: its catalog, stores
    and shoppers (the same user ids, so they come back as returning visitors)."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    catalog = generate_catalog(products=products, seed=seed, until=today)
    world = build_world(catalog, generate_locations(seed), 1, users, seed, today)
    return TrafficStream(world, target)

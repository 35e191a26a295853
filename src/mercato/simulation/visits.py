"""One simulated visit at a time: the events a shopper produces on the site or in a store.

This is the hot loop of the simulator (millions of events), so events are plain dicts
built in one expression, random draws come from one `random.Random`, and everything that
does not depend on the visit (recommendation lists, page paths, price strings) is looked
up rather than computed.
"""

from __future__ import annotations

import random
from bisect import bisect
from datetime import UTC, datetime
from itertools import accumulate, count
from typing import Any

from mercato.modules.tracking import TrackedEvent, cents_to_decimal_string
from mercato.simulation.world import EXPERIMENT, World

# Funnel rates, set so the funnel lands in published e-commerce benchmark ranges (industry
# reports of GA-measured shops): a product is added to the cart in ~6-10 % of sessions,
# ~70 % of carts are abandoned, about half of the carts reach checkout and 45-60 % of
# checkouts complete, for an overall conversion of ~2-3 % of sessions.
ADD_TO_CART_BASE = 0.008  # chance per product view, plus the shopper's propensity share
ADD_TO_CART_PROPENSITY = 0.032
CHECKOUT_BASE = 0.15  # chance a cart reaches checkout in a visit, plus the propensity share
CHECKOUT_PROPENSITY = 0.3
PURCHASE_AFTER_CHECKOUT = 0.45
MEAN_EXTRA_VIEWS = 4.0
RETURN_TO_CART = 0.3
SEARCH_SHARE = 0.3
GAP_SEARCH_SHARE = 0.06
TYPO_SHARE = 0.12
RECOMMENDATIONS_SHOWN = 0.25
HOME_RECOMMENDATIONS_SHOWN = 0.3
HOME_CLICK_RATE = 0.1
TRENDING_FEATURE_SHARE = 0.45
TRENDING_CLICK_RATE = 0.6
BUNDLE_TAKE_RATE = 0.7
COMPLEMENT_AFTER_ADD = 0.45
ABANDONER_CHECKOUT = 0.5
ABANDONER_ADD_FACTOR = 3.0  # abandoners fill carts more readily than other shoppers
CART_REMOVE = 0.25
HOME_STORE_SHARE = 0.85


class _Visit:
    """The running state of one visit: common fields, event numbering, clock."""

    __slots__ = ("base", "number", "prefix", "t")

    def __init__(self, base: dict[str, Any], prefix: str, t: int) -> None:
        self.base = base
        self.prefix = prefix
        self.number = 0
        self.t = t


class ShopperVisits:
    """Turns scheduled visits into events, appended to `buffer` as (ms, seq, event)."""

    def __init__(self, world: World) -> None:
        self.buffer: list[tuple[int, int, TrackedEvent]] = []
        self._world = world
        self._shop = shop = world.shop
        self._pop = world.population
        self._rng = random.Random()  # noqa: S311 - simulation, not security
        self._rng.setstate(world.rng_state)
        self._random = self._rng.random
        self._expo = self._rng.expovariate
        self._append = self.buffer.append
        self._next_seq = count().__next__
        self._stamps: dict[int, str] = {}
        self._carts: dict[int, dict[int, int]] = {}
        self._visits = [0] * len(world.plan.shoppers)
        self._orders = 0
        self._added = False  # whether the current web visit added to the cart
        self._currency = shop.currency
        self._user_ids = [s.user_id for s in world.plan.shoppers]
        self._store_codes = world.plan.store_locations
        self._trending_since_ms = int(world.plan.trending_since.timestamp() * 1000)
        self._typo_of = {intended: typo for typo, intended in shop.typos.items()}
        self._gap_cumulative = list(accumulate(1 / (r + 1) for r in range(len(shop.gap_queries))))
        self._leaf_cumulative = list(accumulate(shop.leaf_weight))
        self._segment_cumulative = [
            list(
                accumulate(
                    w * (6.0 if dept == segment else 1.0)
                    for w, dept in zip(shop.leaf_weight, shop.department_of_leaf, strict=True)
                )
            )
            for segment in range(len(shop.departments))
        ]
        heaviest = sorted(range(len(shop.leaf_paths)), key=lambda leaf: -shop.leaf_weight[leaf])
        self._home_picks = [shop.leaf_products[leaf][0] for leaf in heaviest[:8]]
        self._recommendations: dict[tuple[int, bool], list[int]] = {}

    # -- event plumbing -------------------------------------------------------------

    def _emit(self, visit: _Visit, event: dict[str, Any]) -> None:
        visit.number += 1
        t = visit.t
        event["event_id"] = f"{visit.prefix}{visit.number}"
        minute, millis = divmod(t, 60_000)
        stamp = self._stamps.get(minute)
        if stamp is None:
            moment = datetime.fromtimestamp(minute * 60, UTC)
            stamp = self._stamps[minute] = moment.strftime("%Y-%m-%dT%H:%M:")
        seconds, millis = divmod(millis, 1000)
        event["timestamp"] = f"{stamp}{seconds:02d}.{millis:03d}Z"
        # Built from a shared base dict, so mypy cannot see that it is a TrackedEvent.
        self._append((t, self._next_seq(), event))  # type: ignore[arg-type]

    def _wait(self, visit: _Visit, mean_seconds: float) -> None:
        visit.t += 1000 + int(self._expo(1.0 / mean_seconds) * 1000)

    def _open(self, shopper: int, start: int, store: int) -> _Visit:
        user_id = self._user_ids[shopper]
        session_id = f"{user_id}-{start // 1000}"
        base: dict[str, Any] = {"user_id": user_id, "session_id": session_id}
        if store >= 0:
            base["location_code"] = self._store_codes[store]
        return _Visit(base, f"sim{self._world.seed}-{session_id}-", start)

    # -- choices --------------------------------------------------------------------

    def _pick_leaf(self, shopper: int) -> int:
        roll = self._random()
        if roll < 0.5:
            return self._pop.favourite_leaves[shopper][roll < 0.25]
        cumulative = (
            self._segment_cumulative[self._pop.segment[shopper]]
            if roll < 0.85
            else self._leaf_cumulative
        )
        return bisect(cumulative, self._random() * cumulative[-1])

    def _add_chance(self, shopper: int, product: int) -> float:
        chance = ADD_TO_CART_BASE + ADD_TO_CART_PROPENSITY * self._pop.propensity[shopper]
        if self._pop.abandoner[shopper]:
            chance *= ABANDONER_ADD_FACTOR
        cents = self._shop.price_cents[product]
        if cents < 5_000:
            chance *= 1.6
        elif cents > 50_000:
            chance *= 0.5
        return chance

    def _quantity(self, product: int) -> int:
        if self._shop.price_cents[product] < 3_000 and self._random() < 0.3:
            return 2 + int(self._random() * 3)
        return 1

    def _recommended(self, product: int, in_variant: bool) -> list[int]:
        """The product page's list: same-category best sellers for the control,
        bundle partner and complement best sellers for the variant."""
        key = (product, in_variant)
        found = self._recommendations.get(key)
        if found is None:
            shop = self._shop
            leaf = shop.leaf_of[product]
            candidates: list[int] = []
            if in_variant:
                partner = self._world.bundle_partner.get(product)
                candidates += [partner] if partner is not None else []
                for complement in shop.complements[leaf]:
                    candidates += shop.most_popular(complement, 2)
            candidates += shop.most_popular(leaf, 5)
            found = list(dict.fromkeys(c for c in candidates if c != product))[:4]
            self._recommendations[key] = found
        return found

    # -- visits ---------------------------------------------------------------------

    def web_visit(self, shopper: int, start: int) -> None:
        shop, rnd, pop = self._shop, self._random, self._pop
        visit = self._open(shopper, start, pop.home[shopper])
        base = visit.base
        self._visits[shopper] += 1
        cart = self._carts.get(shopper)
        self._added = False
        leaf = self._pick_leaf(shopper)
        views = 1 + int(self._expo(1.0 / MEAN_EXTRA_VIEWS))
        landing = rnd()
        if cart and landing < RETURN_TO_CART:
            page, views = "/cart", int(rnd() * 2)
        elif landing < 0.55:
            page = shop.page_of_leaf[leaf]
        else:
            page = "/"
        properties: dict[str, Any] = {"page": page, "device": pop.device[shopper]}
        properties["session_number"] = self._visits[shopper]
        self._emit(visit, {**base, "type": "page_view", "properties": properties})
        if page == "/cart" and cart and rnd() < CART_REMOVE:
            self._remove_from_cart(visit, cart)
            if not cart:
                del self._carts[shopper]
        product = self._landing_pick(visit, page)
        if product is None and views and rnd() < SEARCH_SHARE:
            product, stop = self._search(visit, leaf)
            views = 0 if stop else views
        self._browse(visit, shopper, leaf, product, views)
        # A cart kept from an earlier visit is checked out only by a shopper who came
        # back to it (landed on /cart) or added to it in this visit.
        cart = self._carts.get(shopper)
        if cart and (self._added or page == "/cart"):
            self._checkout(visit, shopper, cart)

    def _browse(
        self, visit: _Visit, shopper: int, leaf: int, product: int | None, views: int
    ) -> None:
        """Product pages one after another: same category, a favourite, a complementary
        category after adding to the cart, a recommendation clicked, or a new search."""
        shop, rnd = self._shop, self._random
        while views > 0:
            views -= 1
            if product is None:
                product = shop.pick_in_leaf(leaf, rnd())
            leaf = shop.leaf_of[product]
            self._wait(visit, 35)
            self._emit(
                visit,
                {
                    **visit.base,
                    "type": "view_item",
                    "product_id": shop.product_ids[product],
                    "price": shop.prices[product],
                    "currency": self._currency,
                },
            )
            clicked = None
            if rnd() < RECOMMENDATIONS_SHOWN:
                clicked = self._product_page_recommendations(visit, shopper, product)
            if shop.available[product] and rnd() < self._add_chance(shopper, product):
                self._add_to_cart(visit, shopper, product)
                complements = shop.complements[leaf]
                if complements and rnd() < COMPLEMENT_AFTER_ADD:
                    leaf = complements[int(rnd() * len(complements))]
            product = clicked
            if product is not None:
                continue
            roll = rnd()
            if roll < 0.55:
                continue
            if roll < 0.75:
                leaf = self._pick_leaf(shopper)
            elif roll < 0.87 and shop.complements[leaf]:
                complements = shop.complements[leaf]
                leaf = complements[int(rnd() * len(complements))]
            else:
                product, stop = self._search(visit, leaf)
                if stop:
                    return

    def _landing_pick(self, visit: _Visit, page: str) -> int | None:
        """Home-page features: the trending product in its week, else best sellers."""
        rnd = self._random
        if page != "/":
            return None
        if visit.t >= self._trending_since_ms and rnd() < TRENDING_FEATURE_SHARE:
            return self._home_list(visit, [self._world.trending_product], TRENDING_CLICK_RATE)
        if rnd() < HOME_RECOMMENDATIONS_SHOWN:
            first = int(rnd() * 4)
            return self._home_list(visit, self._home_picks[first : first + 4], HOME_CLICK_RATE)
        return None

    def _home_list(self, visit: _Visit, products: list[int], click_rate: float) -> int | None:
        ids = self._shop.product_ids
        for position, product in enumerate(products):
            self._emit(
                visit,
                {
                    **visit.base,
                    "type": "impression",
                    "product_id": ids[product],
                    "placement": "home",
                    "strategy": "trending",
                    "properties": {"position": position},
                },
            )
        if self._random() >= click_rate:
            return None
        chosen = products[int(self._random() * len(products))]
        self._wait(visit, 4)
        self._emit(
            visit,
            {
                **visit.base,
                "type": "click",
                "product_id": ids[chosen],
                "placement": "home",
                "strategy": "trending",
            },
        )
        return chosen

    def _product_page_recommendations(
        self, visit: _Visit, shopper: int, product: int
    ) -> int | None:
        in_variant = self._pop.in_variant[shopper]
        shown = self._recommended(product, in_variant)
        if not shown:
            return None
        ids = self._shop.product_ids
        test = EXPERIMENT
        arm = {"placement": test.placement, "experiment_id": test.experiment_id}
        arm["strategy"] = test.variant_strategy if in_variant else test.control_strategy
        arm["variant"] = "variant" if in_variant else "control"
        for position, rec in enumerate(shown):
            self._emit(
                visit,
                {
                    **visit.base,
                    **arm,
                    "type": "impression",
                    "product_id": ids[rec],
                    "properties": {"position": position},
                },
            )
        click_rate = test.variant_click_rate if in_variant else test.control_click_rate
        if self._random() >= click_rate:
            return None
        chosen = shown[int(self._random() * len(shown))]
        self._wait(visit, 12)
        self._emit(visit, {**visit.base, **arm, "type": "click", "product_id": ids[chosen]})
        return chosen

    def _search(self, visit: _Visit, leaf: int) -> tuple[int | None, bool]:
        """A search event; returns the product the shopper opens and whether they leave."""
        shop, rnd = self._shop, self._random
        self._wait(visit, 10)
        if shop.gap_queries and rnd() < GAP_SEARCH_SHARE:
            cumulative = self._gap_cumulative
            query = shop.gap_queries[bisect(cumulative, rnd() * cumulative[-1])]
            self._emit(visit, {**visit.base, "type": "search", "query": query, "results_count": 0})
            return None, rnd() < 0.5
        target = shop.pick_in_leaf(leaf, rnd())
        query = shop.query_for(target, rnd())
        found = shop.results_count(query)
        words = query.split()
        typo = self._typo_of.get(words[-1])
        if typo is not None and rnd() < TYPO_SHARE:
            query = " ".join([*words[:-1], typo])
        self._emit(visit, {**visit.base, "type": "search", "query": query, "results_count": found})
        if found == 0:
            return None, rnd() < 0.5
        return target, False

    def _add_to_cart(self, visit: _Visit, shopper: int, product: int) -> None:
        """Adds `product`, and its bundle partner most of the time (a planted behaviour)."""
        shop = self._shop
        cart = self._carts.setdefault(shopper, {})
        self._added = True
        chosen = [product]
        partner = self._world.bundle_partner.get(product)
        if partner is not None and self._random() < BUNDLE_TAKE_RATE:
            chosen.append(partner)
        for position, item in enumerate(chosen):
            if position:
                self._wait(visit, 20)
                self._emit(
                    visit,
                    {
                        **visit.base,
                        "type": "view_item",
                        "product_id": shop.product_ids[item],
                        "price": shop.prices[item],
                        "currency": self._currency,
                    },
                )
            quantity = self._quantity(item)
            cart[item] = cart.get(item, 0) + quantity
            self._wait(visit, 15)
            self._emit(
                visit,
                {
                    **visit.base,
                    "type": "add_to_cart",
                    "product_id": shop.product_ids[item],
                    "quantity": quantity,
                    "price": shop.prices[item],
                    "currency": self._currency,
                },
            )

    def _checkout(self, visit: _Visit, shopper: int, cart: dict[int, int]) -> None:
        rnd, _shop = self._random, self._shop
        abandoner = self._pop.abandoner[shopper]
        if abandoner and rnd() >= ABANDONER_CHECKOUT:
            return
        if (
            not abandoner
            and rnd() >= CHECKOUT_BASE + CHECKOUT_PROPENSITY * self._pop.propensity[shopper]
        ):
            return
        self._wait(visit, 30)
        self._begin_checkout(visit, cart)
        if abandoner:
            return
        if len(cart) > 1 and rnd() < CART_REMOVE:
            self._remove_from_cart(visit, cart)
        if rnd() < PURCHASE_AFTER_CHECKOUT:
            self._wait(visit, 90)
            self._order(visit, cart, "web")
            del self._carts[shopper]

    def _begin_checkout(self, visit: _Visit, cart: dict[int, int]) -> None:
        value = sum(self._shop.price_cents[p] * q for p, q in cart.items())
        self._emit(
            visit,
            {
                **visit.base,
                "type": "begin_checkout",
                "currency": self._currency,
                "properties": {"value": cents_to_decimal_string(value), "items": len(cart)},
            },
        )

    def _remove_from_cart(self, visit: _Visit, cart: dict[int, int]) -> None:
        shop = self._shop
        product = list(cart)[int(self._random() * len(cart))]
        self._wait(visit, 8)
        self._emit(
            visit,
            {
                **visit.base,
                "type": "remove_from_cart",
                "product_id": shop.product_ids[product],
                "quantity": cart.pop(product),
                "price": shop.prices[product],
                "currency": self._currency,
            },
        )

    def store_visit(self, shopper: int, start: int) -> None:
        """A purchase at a store: usually the home store, with related items alongside.

        The till records it like a web checkout (each line scanned into a cart, then
        checkout, then the purchase), so every purchase follows a checkout in its session."""
        shop, rnd = self._shop, self._random
        store = self._pop.home[shopper]
        if rnd() >= HOME_STORE_SHARE:
            store = int(rnd() * len(self._store_codes))
        visit = self._open(shopper, start, store)
        leaf = self._pick_leaf(shopper)
        lines: dict[int, int] = {}
        for extra in range(1 + (rnd() < 0.35) + (rnd() < 0.1)):
            product = shop.pick_in_leaf(leaf, rnd())
            if extra == 0 and not shop.available[product]:
                product = shop.leaf_products[leaf][0]
            lines[product] = lines.get(product, 0) + self._quantity(product)
            partner = self._world.bundle_partner.get(product)
            if partner is not None and rnd() < BUNDLE_TAKE_RATE:
                lines[partner] = lines.get(partner, 0) + 1
            if shop.complements[leaf]:
                leaf = shop.complements[leaf][int(rnd() * len(shop.complements[leaf]))]
        for product, quantity in lines.items():
            self._wait(visit, 20)
            self._emit(
                visit,
                {
                    **visit.base,
                    "type": "add_to_cart",
                    "product_id": shop.product_ids[product],
                    "quantity": quantity,
                    "price": shop.prices[product],
                    "currency": self._currency,
                    "properties": {"channel": "store"},
                },
            )
        self._wait(visit, 60)
        self._begin_checkout(visit, lines)
        self._wait(visit, 30)
        self._order(visit, lines, "store")

    def _order(self, visit: _Visit, lines: dict[int, int], channel: str) -> None:
        """One purchase event per line; see event_doc for the revenue representation."""
        shop = self._shop
        self._orders += 1
        order_id = f"SIM{self._world.seed}-{self._orders:07d}"
        totals = {p: shop.price_cents[p] * q for p, q in lines.items()}
        order_revenue = cents_to_decimal_string(sum(totals.values()))
        for product, quantity in lines.items():
            properties = {"order_id": order_id, "order_revenue": order_revenue, "channel": channel}
            self._emit(
                visit,
                {
                    **visit.base,
                    "type": "purchase",
                    "product_id": shop.product_ids[product],
                    "quantity": quantity,
                    "price": shop.prices[product],
                    "revenue": cents_to_decimal_string(totals[product]),
                    "currency": self._currency,
                    "properties": properties,
                },
            )

"""The fixed part of a simulation: shop index, shoppers, planted behaviours, schedule.

`build_world` is shared by `plan_simulation` (which only needs the plan) and `simulate`
(which also draws the schedule), so both see the same shoppers for the same arguments.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from mercato.simulation.catalog import Catalog, LocationDoc
from mercato.simulation.plan import (
    BUNDLES,
    TRENDING_DAYS,
    ExperimentPlan,
    Population,
    Schedule,
    SimulationPlan,
    draw_population,
    draw_schedule,
    period,
)
from mercato.simulation.shop import ShopIndex

EXPERIMENT = ExperimentPlan(
    experiment_id="sim-pdp-recommendations",
    placement="product_page",
    control_strategy="content_based",
    variant_strategy="frequently_bought_together",
    traffic_split=50,
    control_click_rate=0.06,
    variant_click_rate=0.12,
)


@dataclass(frozen=True)
class World:
    """Everything fixed before the first event, shared by the plan and the event loop."""

    seed: int
    days: int
    shop: ShopIndex
    plan: SimulationPlan
    population: Population
    klass: np.ndarray[Any, np.dtype[np.int64]]
    stores: tuple[LocationDoc, ...]
    bundle_partner: dict[int, int]
    trending_product: int
    rng_state: tuple[Any, ...]

    def schedule(self) -> Schedule:
        rng = np.random.default_rng([self.seed, 2])
        homes = np.array(self.population.home, dtype=np.int64)
        abandoner = np.array(self.population.abandoner, dtype=np.bool_)
        return draw_schedule(
            rng, self.klass, homes, abandoner, self.stores, self.plan.start, self.days
        )


def build_world(
    catalog: Catalog,
    locations: Sequence[LocationDoc],
    days: int,
    users: int,
    seed: int,
    end: datetime | None,
) -> World:
    start, end = period(days, end)
    rng = random.Random(seed)  # noqa: S311 - simulation, not security
    shop = ShopIndex(catalog, rng)
    stores = tuple(loc for loc in locations if loc.get("kind") != "warehouse")
    shoppers, population, klass = draw_population(
        np.random.default_rng([seed, 1]), shop, users, stores, EXPERIMENT
    )
    bundles = _bundles(shop, rng)
    trending = _trending_product(shop, rng, set(bundles) | set(bundles.values()))
    trending_since = max(start, end - timedelta(days=TRENDING_DAYS))
    plan = SimulationPlan(
        seed=seed,
        start=start,
        end=end,
        shoppers=shoppers,
        bundles=[(shop.product_ids[a], shop.product_ids[b]) for a, b in bundles.items()],
        gap_queries=shop.gap_queries,
        typo_queries=dict(shop.typos),
        trending_product_id=shop.product_ids[trending],
        trending_since=trending_since,
        experiment=EXPERIMENT,
        flagship_location=stores[0]["code"] if stores else None,
        store_locations=tuple(loc["code"] for loc in stores),
    )
    return World(
        seed, days, shop, plan, population, klass, stores, bundles, trending, rng.getstate()
    )


def _bundles(shop: ShopIndex, rng: random.Random) -> dict[int, int]:
    """Anchor → partner: a top product of a category and a top product of a complement."""
    leaves = [leaf for leaf, comps in enumerate(shop.complements) if comps]
    rng.shuffle(leaves)
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for leaf in leaves:
        if len(pairs) == BUNDLES:
            break
        anchors = [p for p in shop.most_popular(leaf, 3) if p not in used and shop.available[p]]
        partner_leaf = rng.choice(shop.complements[leaf])
        partners = [
            p for p in shop.most_popular(partner_leaf, 3) if p not in used and shop.available[p]
        ]
        if anchors and partners:
            anchor, partner = rng.choice(anchors), rng.choice(partners)
            pairs[anchor] = partner
            used.update((anchor, partner))
    return pairs


def _trending_product(shop: ShopIndex, rng: random.Random, avoid: set[int]) -> int:
    """A product of middling popularity, so the jump in its views stands out."""
    candidates = [
        members[len(members) // 2]
        for members in shop.leaf_products
        if members[len(members) // 2] not in avoid
    ]
    return rng.choice(candidates or [0])

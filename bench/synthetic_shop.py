"""A synthetic shop with structure a recommender can find, at any size, in seconds.

Products sit in two-level categories with Zipf popularity; shoppers have favourite
categories and return over 60 days; a visit browses one category; some products have a
companion (in another category) that tends to be bought in the same order. Generated
with vectorised numpy so a million events take a couple of seconds.
"""

from __future__ import annotations

import numpy as np

from mercato.modules.recommendations.event_log import CatalogTable, EventLog

WORDS = np.array(
    [
        "oak",
        "pine",
        "walnut",
        "steel",
        "glass",
        "linen",
        "wool",
        "cotton",
        "velvet",
        "leather",
        "marble",
        "bamboo",
        "rattan",
        "grey",
        "white",
        "black",
        "green",
        "blue",
        "red",
        "round",
        "square",
        "compact",
        "large",
        "modern",
        "classic",
        "rustic",
        "nordic",
        "vintage",
        "soft",
        "firm",
        "light",
        "heavy",
        "folding",
        "stackable",
        "outdoor",
        "indoor",
    ]
)
NOUNS = np.array(
    [
        "chair",
        "table",
        "sofa",
        "lamp",
        "rug",
        "shelf",
        "desk",
        "bed",
        "mirror",
        "cushion",
        "vase",
        "clock",
        "stool",
        "bench",
        "cabinet",
        "wardrobe",
        "dresser",
        "curtain",
        "blanket",
        "basket",
    ]
)
DAY = 86_400.0


def synthetic_catalog(products: int, rng: np.random.Generator) -> CatalogTable:
    tops, leaves_per_top = 20, 25
    leaf = rng.integers(0, tops * leaves_per_top, products)
    category = np.char.add(
        np.char.add("Dept ", (leaf // leaves_per_top).astype(str)),
        np.char.add(" > Line ", leaf.astype(str)),
    )
    brand = np.char.add("Brand", rng.integers(0, 200, products).astype(str))
    noun = NOUNS[leaf % NOUNS.size]
    adjectives = WORDS[rng.integers(0, WORDS.size, (products, 2))]
    name = np.char.add(np.char.add(np.char.add(adjectives[:, 0], " "), adjectives[:, 1]), " ")
    name = np.char.add(name, noun)
    description = WORDS[rng.integers(0, WORDS.size, (products, 12))]
    text = np.array([" ".join(row) for row in description.tolist()])
    ids = np.char.add("p", np.arange(products).astype(str))
    return CatalogTable(
        product_id=ids,
        name=name,
        brand=brand,
        category=category,
        description=text,
        attributes=np.char.add("material ", adjectives[:, 0]),
        price=rng.uniform(5, 500, products).round(2),
        available=rng.random(products) > 0.02,
        deleted=rng.random(products) < 0.01,
        created_at=1.7e9 - rng.uniform(0, 365 * DAY, products),
    )


def synthetic_events(
    catalog: CatalogTable, events: int, rng: np.random.Generator, *, users: int | None = None
) -> EventLog:
    products = len(catalog)
    users = users or max(events // 20, 1)
    categories, product_category = np.unique(catalog.category, return_inverse=True)
    by_category = np.argsort(product_category, kind="stable")
    starts = np.searchsorted(product_category[by_category], np.arange(categories.size))
    sizes = np.bincount(product_category, minlength=categories.size)
    favourite = rng.integers(0, categories.size, users)
    companion = rng.integers(0, products, products)
    visits = max(events // 5, 1)
    visitor = (rng.zipf(1.3, visits) - 1) % users
    browsed = np.where(
        rng.random(visits) < 0.8, favourite[visitor], rng.integers(0, categories.size, visits)
    )
    length = np.minimum(rng.geometric(0.2, visits), 30)
    visit_of_event = np.repeat(np.arange(visits), length)[:events]
    count = visit_of_event.size
    category = browsed[visit_of_event]
    rank = (rng.zipf(1.5, count) - 1) % np.maximum(sizes[category], 1)
    product = by_category[starts[category] + rank]
    step = np.arange(count) - np.searchsorted(visit_of_event, visit_of_event)
    start = 1.7e9 - rng.uniform(0, 60 * DAY, visits)
    timestamp = start[visit_of_event] + 40.0 * step
    roll = rng.random(count)
    kind = np.where(roll < 0.03, "purchase", np.where(roll < 0.12, "add_to_cart", "view_item"))
    order = np.where(kind == "purchase", np.char.add("o", visit_of_event.astype(str)), "")
    bought = np.flatnonzero((kind == "purchase") & (rng.random(count) < 0.4))
    session = np.char.add("s", visit_of_event.astype(str))
    user = np.char.add("u", visitor[visit_of_event].astype(str))
    return EventLog(
        user_id=np.concatenate([user, user[bought]]),
        session_id=np.concatenate([session, session[bought]]),
        type=np.concatenate([kind, kind[bought]]),
        product_id=np.concatenate(
            [catalog.product_id[product], catalog.product_id[companion[product[bought]]]]
        ),
        timestamp=np.concatenate([timestamp, timestamp[bought] + 1.0]),
        order_id=np.concatenate([order, order[bought]]),
        revenue=np.full(count + bought.size, np.nan),
    )


def synthetic_shop(products: int, events: int, *, seed: int = 7) -> tuple[EventLog, CatalogTable]:
    rng = np.random.default_rng(seed)
    catalog = synthetic_catalog(products, rng)
    return synthetic_events(catalog, events, rng), catalog

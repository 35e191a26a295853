"""A seeded, realistic demo catalog: a category tree, products and store locations.

It seeds the demo tenant, feeds the import and search benchmarks and gives the shop
simulator something to browse. The same `seed` (and `until`) always gives the same
catalog. Product documents are API.md product bodies, ready for `PUT {T}/products/{id}`
or `POST {T}/products/batch`; what the body has no field for (creation time, the tree
itself, category complements) lives beside them on `Catalog`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NotRequired, TypedDict

from mercato.modules.catalog import complete_gtin
from mercato.simulation.departments import (
    BRANDS,
    COLOURS,
    LEAVES,
    MODELS,
    STYLES,
    Leaf,
)

SHOP_URL = "https://demo-shop.example"
CURRENCY = "EUR"
CATALOG_AGE_DAYS = 730
VARIANT_GROUP_SHARE = 0.35
AVAILABLE_SHARE = 0.93


class ProductDoc(TypedDict):
    """A product body as API.md's catalog section names it, plus its `product_id`."""

    product_id: str
    name: str
    price: str
    currency: str
    description: str
    category: str
    brand: str
    gtin: str
    mpn: str
    condition: str
    image_url: str
    link: str
    available: bool
    attributes: dict[str, Any]
    item_group_id: NotRequired[str]


class LocationDoc(TypedDict):
    """A store, branch or warehouse for `PUT {T}/locations/{code}`."""

    code: str
    name: str
    kind: str
    address: str
    timezone: str
    geo: dict[str, float]


@dataclass(frozen=True)
class CategoryNode:
    path: str
    name: str
    parent_path: str | None
    google_category_id: int | None


@dataclass(frozen=True)
class Catalog:
    products: list[ProductDoc]
    categories: list[CategoryNode]  # parents before children
    complements: dict[str, tuple[str, ...]]  # leaf path → leaf paths bought alongside
    created_at: dict[str, datetime]  # product_id → when the product was listed
    currency: str = CURRENCY

    def leaf_paths(self) -> list[str]:
        parents = {node.parent_path for node in self.categories}
        return [node.path for node in self.categories if node.path not in parents]


def category_path(leaf: Leaf) -> str:
    return " > ".join(leaf.path)


def generate_catalog(*, products: int, seed: int, until: datetime | None = None) -> Catalog:
    """`products` products spread over every leaf category by popularity.

    In colour- or size-varied categories about a third of the designs come as item groups
    of 2 to 4 variants. GTIN-13s are unique with valid check digits; listing dates spread
    over the two years before `until` (default: the start of today, UTC).
    """
    if products < 0:
        raise ValueError("products must be zero or more")
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    until = until or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    numbering = _GtinNumbering(rng)
    families: list[list[dict[str, Any]]] = []
    for leaf, count in zip(LEAVES, _allocate(products), strict=True):
        families.extend(_leaf_families(rng, leaf, count))
    rng.shuffle(families)
    docs: list[ProductDoc] = []
    created_at: dict[str, datetime] = {}
    for family in families:
        listed = until - timedelta(seconds=rng.randrange(CATALOG_AGE_DAYS * 86_400))
        group_id = f"GRP-{len(docs) + 1:06d}" if len(family) > 1 else None
        for spec in family:
            doc = _document(spec, len(docs) + 1, group_id, numbering)
            docs.append(doc)
            created_at[doc["product_id"]] = listed
    return Catalog(docs, _category_nodes(), _complements(), created_at)


def _allocate(products: int) -> list[int]:
    """Products per leaf in proportion to popularity (largest remainder, so exact)."""
    total = sum(leaf.popularity for leaf in LEAVES)
    shares = [products * leaf.popularity / total for leaf in LEAVES]
    counts = [math.floor(share) for share in shares]
    by_remainder = sorted(range(len(LEAVES)), key=lambda i: (counts[i] - shares[i], i))
    for i in by_remainder[: products - sum(counts)]:
        counts[i] += 1
    return counts


def _leaf_families(rng: random.Random, leaf: Leaf, count: int) -> list[list[dict[str, Any]]]:
    families = []
    while count > 0:
        size = 1
        if leaf.variant and count >= 2 and rng.random() < VARIANT_GROUP_SHARE:
            size = min(count, rng.randint(2, 4))
            if leaf.variant == "size":
                size = min(size, len(leaf.sizes))
        family = _family(rng, leaf, size)
        for spec in family:
            spec["available"] = rng.random() < AVAILABLE_SHARE
        families.append(family)
        count -= len(family)
    return families


def _family(rng: random.Random, leaf: Leaf, size: int) -> list[dict[str, Any]]:
    """A base product and its variants, which differ only on the leaf's variant axis."""
    brand = rng.choice(BRANDS[leaf.path[0]])
    base_cents = _charm_price(rng, *leaf.price_eur)
    base = {
        "leaf": leaf,
        "brand": brand,
        "model": rng.choice(MODELS),
        "noun": rng.choice(leaf.nouns),
        "qualifier": rng.choice(leaf.qualifiers),
        "colour": _colour(rng, leaf),
        "size": None,
        "cents": base_cents,
        "style": rng.choice(STYLES),
        "features": rng.sample(leaf.features, 2),
        "condition": _condition(rng, leaf),
    }
    if size == 1:
        return [base]
    if leaf.variant == "size":
        start = rng.randrange(max(1, len(leaf.sizes) - size + 1))
        sizes = leaf.sizes[start : start + size]
        return [
            base | {"size": label, "cents": _charm_price_exact(base_cents * (1 + 0.22 * i))}
            for i, label in enumerate(sizes)
        ]
    colours = rng.sample(list(COLOURS), size)
    return [base | {"colour": colour} for colour in colours]


def _document(
    spec: dict[str, Any], number: int, group_id: str | None, numbering: _GtinNumbering
) -> ProductDoc:
    leaf: Leaf = spec["leaf"]
    product_id = f"SKU-{number:06d}"
    qualifier = spec["qualifier"] if spec["qualifier"].isupper() else spec["qualifier"].lower()
    name_parts = [f"{spec['model']} {spec['noun'].lower()}", qualifier]
    attributes: dict[str, Any] = {leaf.qualifier_attribute: qualifier}
    if spec["colour"]:
        attributes["color"] = spec["colour"]
        if leaf.variant == "color":
            name_parts.append(spec["colour"].lower())
    if spec["size"]:
        attributes["size"] = spec["size"]
        name_parts.append(spec["size"])
    attributes["warranty_years"] = 5 if leaf.path[0] == "Furniture" else 2
    doc: ProductDoc = {
        "product_id": product_id,
        "name": ", ".join(name_parts),
        "price": f"{spec['cents'] // 100}.{spec['cents'] % 100:02d}",
        "currency": CURRENCY,
        "description": _description(spec, attributes["warranty_years"]),
        "category": category_path(leaf),
        "brand": spec["brand"],
        "gtin": numbering.next_gtin(spec["brand"]),
        "mpn": f"{_code(spec['brand'])}-{_code(leaf.name)}-{number:06d}",
        "condition": spec["condition"],
        "image_url": f"/media/demo/{product_id}.png",
        "link": f"{SHOP_URL}/products/{product_id}",
        "available": spec["available"],
        "attributes": attributes,
    }
    if group_id:
        doc["item_group_id"] = group_id
    return doc


def _description(spec: dict[str, Any], warranty_years: int) -> str:
    leaf: Leaf = spec["leaf"]
    noun = spec["noun"].lower()
    first, second = spec["features"]
    sentences = [
        f"The {spec['model']} {noun} brings {spec['style']} to your {leaf.room}.",
        f"{spec['qualifier']} {leaf.qualifier_attribute} with {first} and {second}.",
    ]
    if spec["colour"]:
        sentences.append(f"Shown in {spec['colour'].lower()}.")
    if spec["size"]:
        sentences.append(f"This version measures {spec['size']}.")
    sentences.append(
        f"Designed by {spec['brand']} and covered by a {warranty_years}-year warranty."
    )
    if spec["condition"] != "new":
        sentences.append(f"Sold {spec['condition']}, inspected and cleaned by our team.")
    return " ".join(sentences)


def _colour(rng: random.Random, leaf: Leaf) -> str | None:
    """Every product of a colour-varied category has a colour, half of the others do."""
    if leaf.variant == "color" or rng.random() < 0.5:
        return rng.choice(list(COLOURS))
    return None


def _condition(rng: random.Random, leaf: Leaf) -> str:
    roll = rng.random()
    if leaf.path[0] == "Electronics" and roll < 0.08:
        return "refurbished"
    if leaf.path[0] == "Furniture" and roll < 0.015:
        return "used"
    return "new"


def _charm_price(rng: random.Random, low: int, high: int) -> int:
    """A log-uniform price in cents between `low` and `high` euros, with a shop's endings."""
    euros = math.exp(rng.uniform(math.log(low), math.log(high)))
    return _charm_price_exact(euros * 100)


def _charm_price_exact(cents: float) -> int:
    euros = cents / 100
    if euros < 20:
        return max(99, round(euros * 2) * 50 - 1)  # …,49 or …,99
    if euros < 200:
        return math.ceil(euros) * 100 - 1
    return math.ceil(euros / 10) * 1000 - 1


def _code(name: str) -> str:
    letters = "".join(ch for ch in name.upper() if ch.isalpha())
    return letters[:3]


class _GtinNumbering:
    """GS1-style numbers: each brand owns 7-digit company prefixes, items count up in them."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._prefixes: dict[str, list[str]] = {}
        self._used: set[str] = set()
        self._next: dict[str, int] = {}

    def next_gtin(self, brand: str) -> str:
        item = self._next.get(brand, 0)
        self._next[brand] = item + 1
        prefixes = self._prefixes.setdefault(brand, [])
        while len(prefixes) <= item // 100_000:
            prefixes.append(self._new_prefix())
        return complete_gtin(f"{prefixes[item // 100_000]}{item % 100_000:05d}")

    def _new_prefix(self) -> str:
        while True:
            prefix = f"{self._rng.randint(40, 44)}{self._rng.randrange(100_000):05d}"
            if prefix not in self._used:
                self._used.add(prefix)
                return prefix


def _category_nodes() -> list[CategoryNode]:
    nodes: dict[str, CategoryNode] = {}
    for leaf in LEAVES:
        for depth in range(1, len(leaf.path) + 1):
            path = " > ".join(leaf.path[:depth])
            if path in nodes:
                continue
            parent = " > ".join(leaf.path[: depth - 1]) or None
            google_id = leaf.google_category_id if depth == len(leaf.path) else None
            nodes[path] = CategoryNode(path, leaf.path[depth - 1], parent, google_id)
    return list(nodes.values())


def _complements() -> dict[str, tuple[str, ...]]:
    by_name = {leaf.name: category_path(leaf) for leaf in LEAVES}
    return {
        category_path(leaf): tuple(by_name[name] for name in leaf.complements) for leaf in LEAVES
    }


_CITIES = (
    ("Berlin", "Europe/Berlin", 52.520, 13.405, "10115"),
    ("Hamburg", "Europe/Berlin", 53.551, 9.994, "20095"),
    ("Munich", "Europe/Berlin", 48.137, 11.575, "80331"),
    ("Cologne", "Europe/Berlin", 50.938, 6.960, "50667"),
    ("Leipzig", "Europe/Berlin", 51.340, 12.375, "04109"),
    ("Vienna", "Europe/Vienna", 48.208, 16.374, "1010"),
    ("Zurich", "Europe/Zurich", 47.377, 8.541, "8001"),
    ("Amsterdam", "Europe/Amsterdam", 52.368, 4.904, "1012 AB"),
    ("Copenhagen", "Europe/Copenhagen", 55.676, 12.568, "1050"),
    ("Stuttgart", "Europe/Berlin", 48.776, 9.183, "70173"),
)
_STREETS = ("Lindenallee", "Hafenstraße", "Marktplatz", "Gartenweg", "Mühlenstraße", "Am Anger")


def generate_locations(seed: int, n: int = 5) -> list[LocationDoc]:
    """`n` locations: the first is the flagship store, the last (n ≥ 2) the warehouse,
    the rest alternate between stores and smaller branches."""
    if not 1 <= n <= len(_CITIES):
        raise ValueError(f"n must be between 1 and {len(_CITIES)}")
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    cities = rng.sample(_CITIES, n)
    locations: list[LocationDoc] = []
    for index, (city, timezone, lat, lon, postcode) in enumerate(cities):
        kind = "store" if index == 0 or index % 2 == 0 else "branch"
        if n >= 2 and index == n - 1:
            kind = "warehouse"
        name = {
            "store": f"Demo Shop {city}",
            "branch": f"Demo Shop {city} branch",
            "warehouse": f"Central warehouse {city}",
        }[kind]
        street = f"{rng.choice(_STREETS)} {rng.randint(1, 120)}"
        locations.append(
            {
                "code": f"{city[:3].upper()}-{index + 1:02d}",
                "name": name,
                "kind": kind,
                "address": f"{street}, {postcode} {city}",
                "timezone": timezone,
                "geo": {
                    "lat": round(lat + rng.uniform(-0.03, 0.03), 5),
                    "lon": round(lon + rng.uniform(-0.03, 0.03), 5),
                },
            }
        )
    return locations

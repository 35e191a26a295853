from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mercato.modules.catalog.gtin import is_valid_gtin
from mercato.simulation.catalog import (
    CATALOG_AGE_DAYS,
    Catalog,
    generate_catalog,
    generate_locations,
)
from mercato.simulation.departments import LEAVES

UNTIL = datetime(2025, 6, 1, tzinfo=UTC)
TAXONOMY = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "google-product-taxonomy-with-ids.en-US.txt"
)
API_FIELDS = {
    "product_id", "name", "price", "currency", "description", "category", "brand", "gtin",
    "mpn", "condition", "image_url", "link", "available", "attributes", "item_group_id",
}  # fmt: skip


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return generate_catalog(products=2000, seed=11, until=UNTIL)


def test_same_seed_gives_the_same_catalog_and_another_seed_a_different_one() -> None:
    first = generate_catalog(products=300, seed=5, until=UNTIL)
    again = generate_catalog(products=300, seed=5, until=UNTIL)
    other = generate_catalog(products=300, seed=6, until=UNTIL)
    assert first == again
    assert [p["name"] for p in first.products] != [p["name"] for p in other.products]


@pytest.mark.parametrize("count", [0, 1, 7, 45, 999])
def test_catalog_has_exactly_the_requested_number_of_products(count: int) -> None:
    assert len(generate_catalog(products=count, seed=1, until=UNTIL).products) == count


def test_ids_and_gtins_are_unique_and_gtins_are_valid_gtin13(catalog: Catalog) -> None:
    gtins = [p["gtin"] for p in catalog.products]
    assert len({p["product_id"] for p in catalog.products}) == len(catalog.products)
    assert len(set(gtins)) == len(gtins)
    assert len({p["mpn"] for p in catalog.products}) == len(catalog.products)
    assert all(len(g) == 13 and is_valid_gtin(g) for g in gtins)


def test_category_tree_has_twenty_leaves_or_more_with_consistent_paths(catalog: Catalog) -> None:
    nodes = {node.path: node for node in catalog.categories}
    leaves = catalog.leaf_paths()
    assert len(leaves) >= 20
    for node in catalog.categories:
        if node.parent_path is None:
            assert node.path == node.name
        else:
            assert node.parent_path in nodes
            assert node.path == f"{node.parent_path} > {node.name}"
    assert {p["category"] for p in catalog.products} == set(leaves)
    assert all(nodes[leaf].google_category_id for leaf in leaves)


def test_products_carry_the_api_product_body_fields(catalog: Catalog) -> None:
    for product in catalog.products:
        assert set(product) <= API_FIELDS
        assert API_FIELDS - {"item_group_id"} <= set(product)
        price = Decimal(product["price"])
        assert price > 0
        assert price == price.quantize(Decimal("0.01"))
        assert product["price"] == f"{price:.2f}"
        assert product["currency"] == "EUR"
        assert product["link"] == f"https://demo-shop.example/products/{product['product_id']}"
        assert product["image_url"] == f"/media/demo/{product['product_id']}.png"
        assert product["description"].count(". ") >= 2
        assert product["brand"]
    conditions = Counter(p["condition"] for p in catalog.products)
    assert set(conditions) <= {"new", "refurbished", "used"}
    assert conditions["new"] / len(catalog.products) > 0.9
    assert 0.8 < sum(p["available"] for p in catalog.products) / len(catalog.products) < 1


def test_prices_stay_within_each_category_range(catalog: Catalog) -> None:
    ranges = {" > ".join(leaf.path): leaf.price_eur for leaf in LEAVES}
    for product in catalog.products:
        low, high = ranges[product["category"]]
        # size variants cost up to 66 % more than the base; prices are rounded up to …9.99
        assert Decimal(low) - 1 <= Decimal(product["price"]) <= Decimal(high) * 166 / 100 + 10


def test_variant_groups_share_a_product_and_differ_on_colour_or_size(catalog: Catalog) -> None:
    groups = defaultdict(list)
    for product in catalog.products:
        if "item_group_id" in product:
            groups[product["item_group_id"]].append(product)
    grouped = sum(len(members) for members in groups.values())
    assert grouped / len(catalog.products) > 0.1
    for members in groups.values():
        assert len(members) >= 2
        assert len({(m["category"], m["brand"], m["description"][:30]) for m in members}) == 1
        axes = {(m["attributes"].get("color"), m["attributes"].get("size")) for m in members}
        assert len(axes) == len(members)


def test_complements_point_at_other_existing_leaves(catalog: Catalog) -> None:
    leaves = set(catalog.leaf_paths())
    assert sum(bool(c) for c in catalog.complements.values()) >= 20
    for leaf, complements in catalog.complements.items():
        assert leaf in leaves
        assert set(complements) <= leaves - {leaf}


def test_listing_dates_spread_over_two_years_before_until(catalog: Catalog) -> None:
    dates = list(catalog.created_at.values())
    assert set(catalog.created_at) == {p["product_id"] for p in catalog.products}
    assert all(UNTIL - timedelta(days=CATALOG_AGE_DAYS) <= d <= UNTIL for d in dates)
    assert min(dates) < UNTIL - timedelta(days=600)
    assert max(dates) > UNTIL - timedelta(days=100)


def test_leaf_google_category_ids_exist_in_the_shared_taxonomy(catalog: Catalog) -> None:
    if not TAXONOMY.exists():
        pytest.skip(f"{TAXONOMY} is not present")
    taxonomy = {}
    for line in TAXONOMY.read_text(encoding="utf-8").splitlines()[1:]:
        number, _, path = line.partition(" - ")
        taxonomy[int(number)] = path
    for node in catalog.categories:
        if node.google_category_id is None:
            continue
        google_path = taxonomy[node.google_category_id]
        assert google_path.split(" > ")[0] in {"Furniture", "Home & Garden", "Electronics"}


def test_locations_are_a_flagship_store_branches_and_a_warehouse() -> None:
    locations = generate_locations(3, n=5)
    assert locations == generate_locations(3, n=5)
    kinds = [location["kind"] for location in locations]
    assert kinds[0] == "store"
    assert kinds[-1] == "warehouse"
    assert kinds.count("warehouse") == 1
    assert len({location["code"] for location in locations}) == 5
    for location in locations:
        ZoneInfo(location["timezone"])
        assert 45 < location["geo"]["lat"] < 57
        assert 4 < location["geo"]["lon"] < 17
        assert location["address"]
        assert location["name"]


@pytest.mark.parametrize("n", [0, 11])
def test_location_count_outside_the_city_list_is_refused(n: int) -> None:
    with pytest.raises(ValueError, match="n must be"):
        generate_locations(1, n=n)

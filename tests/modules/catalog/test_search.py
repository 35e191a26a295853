"""Search and listing: typo tolerance, filters, sorts, stable cursors, facets, isolation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.modules.catalog.factories import Shop, open_shop


async def _batch(client, shop: Shop, products: list[dict[str, Any]]) -> None:
    response = await client.post(
        f"{shop.base}/products/batch", json={"products": products}, headers=shop.owner.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["failed"] == []


def _item(pid: str, name: str, price: str, category: str, brand: str, **extra: Any) -> dict:
    return {
        "product_id": pid,
        "name": name,
        "price": price,
        "currency": "EUR",
        "category": category,
        "brand": brand,
        **extra,
    }


@pytest.fixture
async def furnished(client) -> Shop:
    shop = await open_shop(client)
    await _batch(
        client,
        shop,
        [
            _item("c1", "Oak Dining Chair", "129.00", "Furniture > Chairs", "Nordwood"),
            _item("c2", "Lounge Chair", "349.00", "Furniture > Chairs > Lounge", "Fjell"),
            _item("s1", "Three-Seat Sofa", "899.00", "Furniture > Sofas", "Fjell"),
            _item("s2", "Corner Sofa Bed", "1299.00", "Furniture > Sofas", "Nordwood"),
            _item("l1", "Brass Floor Lamp", "89.00", "Lighting > Floor Lamps", "Lumo"),
            _item(
                "t1",
                "Garden Table",
                "199.00",
                "Garden > Tables",
                "Lumo",
                description="Weatherproof table that seats six chairs",
                available=False,
            ),
        ],
    )
    return shop


async def _ids(client, shop: Shop, **params: Any) -> list[str]:
    response = await client.get(f"{shop.base}/products", params=params, headers=shop.owner.headers)
    assert response.status_code == 200, response.text
    return [item["product_id"] for item in response.json()["data"]]


@pytest.mark.parametrize(("typo", "expected"), [("chiar", "c1"), ("sofe", "s1"), ("lmap", "l1")])
async def test_a_typo_still_finds_the_product(client, furnished, typo, expected) -> None:
    assert expected in await _ids(client, furnished, q=typo)


async def test_name_matches_rank_above_description_matches(client, furnished) -> None:
    found = await _ids(client, furnished, q="chair")
    assert set(found) == {"c1", "c2", "t1"}
    assert found[-1] == "t1"


async def test_prefix_of_the_last_word_matches(client, furnished) -> None:
    assert set(await _ids(client, furnished, q="sof")) == {"s1", "s2"}


async def test_category_filter_includes_descendants(client, furnished) -> None:
    assert set(await _ids(client, furnished, category="Furniture > Chairs")) == {"c1", "c2"}
    assert set(await _ids(client, furnished, category="furniture")) == {"c1", "c2", "s1", "s2"}
    assert await _ids(client, furnished, category="Nowhere") == []


@pytest.mark.parametrize(
    "category", ["0" * 2100, "Furniture >  > Chairs", " > ".join(["Level"] * 11)]
)
async def test_a_category_filter_no_category_could_have_is_a_422(
    client, furnished, category
) -> None:
    response = await client.get(
        f"{furnished.base}/products",
        params={"category": category, "brand": "0" * 200, "available": "true"},
        headers=furnished.owner.headers,
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "category"


async def test_price_brand_and_availability_filters(client, furnished) -> None:
    assert set(await _ids(client, furnished, min_price="100", max_price="400")) == {
        "c1",
        "c2",
        "t1",
    }
    assert set(await _ids(client, furnished, brand="Lumo")) == {"l1", "t1"}
    assert set(await _ids(client, furnished, brand="Lumo", available="true")) == {"l1"}


@pytest.mark.parametrize("sort", ["price_asc", "price_desc", "newest", "relevance"])
async def test_cursor_pages_cover_everything_once_in_order(client, furnished, sort) -> None:
    params: dict[str, Any] = {"sort": sort, "limit": 2}
    if sort == "relevance":
        params["q"] = "furniture"  # in the category path of four products
    seen: list[str] = []
    cursor = None
    while True:
        if cursor:
            params["cursor"] = cursor
        page = await client.get(
            f"{furnished.base}/products", params=params, headers=furnished.owner.headers
        )
        assert page.status_code == 200, page.text
        seen += [item["product_id"] for item in page.json()["data"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    everything = await _ids(client, furnished, sort=sort, limit=100, q=params.get("q"))
    assert seen == everything
    assert len(seen) == len(set(seen))
    if sort == "price_asc":
        assert seen[0] == "l1"
        assert seen[-1] == "s2"


async def test_a_cursor_of_another_sort_is_400(client, furnished) -> None:
    page = await client.get(
        f"{furnished.base}/products",
        params={"sort": "price_asc", "limit": 1},
        headers=furnished.owner.headers,
    )
    response = await client.get(
        f"{furnished.base}/products",
        params={"sort": "newest", "cursor": page.json()["next_cursor"]},
        headers=furnished.owner.headers,
    )
    assert response.status_code == 400
    garbage = await client.get(
        f"{furnished.base}/products", params={"cursor": "!!"}, headers=furnished.owner.headers
    )
    assert garbage.status_code == 400


async def test_facets_count_categories_and_brands(client, furnished) -> None:
    response = await client.get(
        f"{furnished.base}/products",
        params={"q": "chair", "facets": "true", "brand": "Nordwood"},
        headers=furnished.owner.headers,
    )
    facets = response.json()["facets"]
    assert {"value": "Furniture > Chairs", "count": 1} in facets["category"]
    # The brand facet ignores the brand filter, so the other brands stay visible.
    brands = {entry["value"]: entry["count"] for entry in facets["brand"]}
    assert brands == {"Nordwood": 1, "Fjell": 1, "Lumo": 1}


async def test_search_never_shows_another_tenants_products(client, furnished) -> None:
    other = await open_shop(client)
    await _batch(client, other, [_item("x1", "Secret Chair", "10", "Furniture", "Hidden")])
    assert "x1" not in await _ids(client, furnished, q="chair")
    assert "c1" not in await _ids(client, other, q="chair")
    assert await _ids(client, other, q="chiar") == ["x1"]

"""The category tree: paths created on demand, renames and moves keep paths consistent."""

from __future__ import annotations

from tests.modules.catalog.factories import new_product_id, open_shop, put_product


async def _categories(client, shop) -> dict[str, dict]:
    response = await client.get(f"{shop.base}/categories", headers=shop.owner.headers)
    assert response.status_code == 200
    return {c["path"]: c for c in response.json()["data"]}


async def test_a_product_path_creates_each_level_once(client) -> None:
    shop = await open_shop(client)
    await put_product(client, shop, new_product_id(), category="Furniture > Chairs > Dining")
    await put_product(client, shop, new_product_id(), category="furniture > chairs")
    tree = await _categories(client, shop)
    assert list(tree) == ["Furniture", "Furniture > Chairs", "Furniture > Chairs > Dining"]
    assert tree["Furniture > Chairs"]["parent_id"] == tree["Furniture"]["id"]
    assert tree["Furniture > Chairs > Dining"]["depth"] == 2


async def test_rename_and_move_rewrite_descendants_and_products(client) -> None:
    shop = await open_shop(client)
    pid = new_product_id()
    await put_product(client, shop, pid, category="Furniture > Chairs > Dining")
    tree = await _categories(client, shop)
    chairs = tree["Furniture > Chairs"]["id"]
    renamed = await client.patch(
        f"{shop.base}/categories/{chairs}", json={"name": "Seating"}, headers=shop.owner.headers
    )
    assert renamed.status_code == 200, renamed.text
    outdoor = await client.post(
        f"{shop.base}/categories", json={"name": "Outdoor"}, headers=shop.owner.headers
    )
    assert outdoor.status_code == 201
    moved = await client.patch(
        f"{shop.base}/categories/{chairs}",
        json={"parent_id": outdoor.json()["id"]},
        headers=shop.owner.headers,
    )
    assert moved.json()["path"] == "Outdoor > Seating"
    tree = await _categories(client, shop)
    assert "Outdoor > Seating > Dining" in tree
    assert tree["Outdoor > Seating > Dining"]["depth"] == 2
    product = await client.get(f"{shop.base}/products/{pid}", headers=shop.owner.headers)
    assert product.json()["category"] == "Outdoor > Seating > Dining"
    found = await client.get(
        f"{shop.base}/products", params={"q": "seating"}, headers=shop.owner.headers
    )
    assert [p["product_id"] for p in found.json()["data"]] == [pid]


async def test_a_category_cannot_move_under_its_own_descendant(client) -> None:
    shop = await open_shop(client)
    await put_product(client, shop, new_product_id(), category="A > B > C")
    tree = await _categories(client, shop)
    response = await client.patch(
        f"{shop.base}/categories/{tree['A']['id']}",
        json={"parent_id": tree["A > B > C"]["id"]},
        headers=shop.owner.headers,
    )
    assert response.status_code == 422


async def test_duplicate_paths_and_non_empty_deletes_are_409(client) -> None:
    shop = await open_shop(client)
    pid = new_product_id()
    await put_product(client, shop, pid, category="Garden")
    tree = await _categories(client, shop)
    duplicate = await client.post(
        f"{shop.base}/categories", json={"name": "GARDEN"}, headers=shop.owner.headers
    )
    assert duplicate.status_code == 409
    garden = f"{shop.base}/categories/{tree['Garden']['id']}"
    assert (await client.delete(garden, headers=shop.owner.headers)).status_code == 409
    await client.delete(f"{shop.base}/products/{pid}", headers=shop.owner.headers)
    assert (await client.delete(garden, headers=shop.owner.headers)).status_code == 204


async def test_google_category_alignment_is_stored(client) -> None:
    shop = await open_shop(client)
    created = await client.post(
        f"{shop.base}/categories",
        json={"name": "Sofas", "google_category_id": 460},
        headers=shop.owner.headers,
    )
    category = created.json()
    assert category["google_category_id"] == 460
    cleared = await client.patch(
        f"{shop.base}/categories/{category['id']}",
        json={"google_category_id": None},
        headers=shop.owner.headers,
    )
    assert cleared.json()["google_category_id"] is None


async def test_a_category_route_only_takes_an_id_so_other_words_are_other_routes(client) -> None:
    shop = await open_shop(client)
    headers = shop.owner.headers
    # `alignment` belongs to the channels' GET route: another method there is a 405.
    patched = await client.patch(f"{shop.base}/categories/alignment", headers=headers)
    assert patched.status_code == 405
    assert "GET" in patched.headers["allow"]
    assert "PATCH" not in patched.headers["allow"]
    missing = await client.get(f"{shop.base}/categories/not-an-id", headers=headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"

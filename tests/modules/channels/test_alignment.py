"""Category alignment over HTTP: taxonomy search, manual alignment with its audit trail,
suggestions from the category path and product names, accepting one, coverage."""

from __future__ import annotations

import pytest

from tests.factories import add_member, create_tenant, signup_and_login
from tests.modules.channels.shop import Shop, category_ids, product, put_product

PANS = "Kitchen > Cookware > Frying pans"
SKILLETS_ID = 662


@pytest.fixture
async def shop(client, taxonomy_in_database) -> Shop:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    shop = Shop(tenant, owner, {})
    for n, name in enumerate(
        ["Cast iron skillet 28 cm", "Carbon steel frying pan", "Non-stick frying pan 24 cm"]
    ):
        await put_product(
            client, shop, f"pan-{n}", product(f"pan-{n}", n, name=name, category=PANS)
        )
    await put_product(client, shop, "sofa-1", product("sofa-1", 9))
    shop.categories = await category_ids(client, shop)
    return shop


class TestTaxonomySearch:
    async def test_words_and_prefixes_find_categories_leaf_first(self, client, shop) -> None:
        response = await client.get(
            shop.url("/google/taxonomy"), params={"q": "sofa"}, headers=shop.owner.headers
        )
        assert response.status_code == 200
        paths = [row["path"] for row in response.json()["data"]]
        assert "Furniture > Sofas" in paths[:3]
        prefix = await client.get(
            shop.url("/google/taxonomy"), params={"q": "frying pa"}, headers=shop.owner.headers
        )
        assert any(row["id"] == SKILLETS_ID for row in prefix.json()["data"])

    @pytest.mark.parametrize("q", ["²", "99999999999999999999"])
    async def test_digits_that_are_no_category_id_are_searched_as_words(
        self, client, shop, q
    ) -> None:
        response = await client.get(
            shop.url("/google/taxonomy"), params={"q": q}, headers=shop.owner.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["data"] == []

    async def test_an_id_finds_that_category(self, client, shop) -> None:
        response = await client.get(
            shop.url("/google/taxonomy"), params={"q": "460"}, headers=shop.owner.headers
        )
        [sofas] = response.json()["data"]
        assert sofas == {
            "id": 460,
            "path": "Furniture > Sofas",
            "name": "Sofas",
            "parent_id": 436,
            "level": 2,
        }

    async def test_punctuation_alone_finds_nothing(self, client, shop) -> None:
        response = await client.get(
            shop.url("/google/taxonomy"), params={"q": "&&> !"}, headers=shop.owner.headers
        )
        assert response.json()["data"] == []


class TestAlignment:
    async def test_manual_alignment_is_stored_and_every_change_audited(self, client, shop) -> None:
        sofas = shop.categories["Furniture > Sofas"]
        url = shop.url(f"/categories/{sofas}/align")
        aligned = await client.post(
            url, json={"google_category_id": 460}, headers=shop.owner.headers
        )
        assert aligned.status_code == 200, aligned.text
        assert aligned.json() == {
            "category_id": sofas,
            "path": "Furniture > Sofas",
            "google_category_id": 460,
            "google_category_path": "Furniture > Sofas",
        }
        same = await client.post(url, json={"google_category_id": 460}, headers=shop.owner.headers)
        assert same.status_code == 200
        cleared = await client.post(
            url, json={"google_category_id": None}, headers=shop.owner.headers
        )
        assert cleared.json()["google_category_id"] is None
        category = await client.get(shop.url(f"/categories/{sofas}"), headers=shop.owner.headers)
        assert category.json()["google_category_id"] is None

        history = await client.get(
            shop.url(f"/categories/alignment/history?category_id={sofas}"),
            headers=shop.owner.headers,
        )
        trail = [
            (row["previous_google_category_id"], row["google_category_id"], row["source"])
            for row in history.json()["data"]
        ]
        assert trail == [(460, None, "manual"), (None, 460, "manual")]  # newest first
        assert history.json()["data"][0]["actor"] == f"user:{shop.owner.id}"

    async def test_unknown_google_categories_and_categories_are_refused(self, client, shop) -> None:
        sofas = shop.categories["Furniture > Sofas"]
        unknown = await client.post(
            shop.url(f"/categories/{sofas}/align"),
            json={"google_category_id": 99999999},
            headers=shop.owner.headers,
        )
        assert unknown.status_code == 422
        missing = await client.post(
            shop.url("/categories/00000000-0000-7000-8000-000000000000/align"),
            json={"google_category_id": 460},
            headers=shop.owner.headers,
        )
        assert missing.status_code == 404

    async def test_suggestions_rank_the_right_category_first_and_can_be_accepted(
        self, client, shop
    ) -> None:
        pans = shop.categories[PANS]
        response = await client.get(
            shop.url(f"/categories/{pans}/alignment-suggestions"), headers=shop.owner.headers
        )
        assert response.status_code == 200
        body = response.json()
        assert body["category_path"] == PANS
        assert body["data"][0]["google_category_id"] == SKILLETS_ID
        assert 0 < body["data"][0]["score"] <= 1
        accepted = await client.post(
            shop.url(f"/categories/{pans}/alignment-suggestions/{SKILLETS_ID}/accept"),
            headers=shop.owner.headers,
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["google_category_id"] == SKILLETS_ID
        history = await client.get(
            shop.url("/categories/alignment/history"), headers=shop.owner.headers
        )
        [entry] = history.json()["data"]
        assert entry["source"] == "suggestion"
        assert entry["score"] == body["data"][0]["score"]

    async def test_a_category_far_from_the_suggestions_cannot_be_accepted(
        self, client, shop
    ) -> None:
        pans = shop.categories[PANS]
        response = await client.post(
            shop.url(f"/categories/{pans}/alignment-suggestions/460/accept"),
            headers=shop.owner.headers,
        )
        assert response.status_code == 422

    async def test_coverage_is_the_share_of_products_in_aligned_categories(
        self, client, shop
    ) -> None:
        before = await client.get(shop.url("/categories/alignment"), headers=shop.owner.headers)
        assert (before.json()["products"], before.json()["aligned_products"]) == (4, 0)
        assert before.json()["coverage"] == 0.0
        await client.post(
            shop.url(f"/categories/{shop.categories[PANS]}/align"),
            json={"google_category_id": SKILLETS_ID},
            headers=shop.owner.headers,
        )
        after = (
            await client.get(shop.url("/categories/alignment"), headers=shop.owner.headers)
        ).json()
        assert (after["products"], after["aligned_products"], after["coverage"]) == (4, 3, 0.75)
        assert after["aligned_categories"] == 1
        by_path = {row["path"]: row for row in after["data"]}
        assert by_path[PANS]["products"] == 3
        assert by_path["Kitchen"]["products"] == 0

    async def test_viewers_read_but_do_not_align(self, client, shop) -> None:
        viewer = await add_member(client, shop.owner, shop.tenant, "viewer")
        sofas = shop.categories["Furniture > Sofas"]
        coverage = await client.get(shop.url("/categories/alignment"), headers=viewer.headers)
        assert coverage.status_code == 200
        refused = await client.post(
            shop.url(f"/categories/{sofas}/align"),
            json={"google_category_id": 460},
            headers=viewer.headers,
        )
        assert refused.status_code == 403

"""Commerce → Products and Categories: search and filters, the product form with the API's
field messages, categories with their Google alignment, and what a viewer may do."""

from __future__ import annotations

import re
import uuid

import pytest

from mercato.kernel.blobs import shared_blobs
from mercato.settings import get_settings
from tests.factories import add_member, create_tenant, signup_and_login
from tests.jobs import run_queued_jobs
from tests.modules.channels.conftest import (  # noqa: F401  (fixtures)
    taxonomy_file,
    taxonomy_in_database,
)
from tests.modules.channels.shop import Shop, category_ids, product, put_product
from tests.web.browser import signed_in

PANS = "Kitchen > Cookware > Frying pans"
SKILLETS_ID = 662


@pytest.fixture
async def shop(client) -> Shop:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    shop = Shop(tenant, owner, {})
    for n, name in enumerate(["Cast iron skillet 28 cm", "Carbon steel frying pan"]):
        body = product(f"pan-{n}", n, name=name, category=PANS, brand="Fjällpanna")
        await put_product(client, shop, f"pan-{n}", body)
    await put_product(client, shop, "sofa-1", product("sofa-1", 9, available=False))
    return shop


class TestProducts:
    async def test_search_and_filters_use_the_catalog_search(self, client, shop) -> None:
        dashboard = await signed_in(client, shop.owner)
        url = f"/app/t/{shop.tenant}/catalog/products"
        everything = await dashboard.get(url)
        assert everything.status_code == 200
        for name in ("Cast iron skillet 28 cm", "Carbon steel frying pan", "Oslo 3-seat sofa"):
            assert name in everything.text
        assert 'value="Fjällpanna">Fjällpanna (2)</option>' in everything.text

        typo = await dashboard.get(url, params={"q": "skilet"}, headers={"HX-Request": "true"})
        assert "Cast iron skillet 28 cm" in typo.text
        assert "Carbon steel frying pan" not in typo.text
        assert "<html" not in typo.text  # the results fragment only

        by_brand = await dashboard.get(url, params={"brand": "Nordhus"})
        assert "Oslo 3-seat sofa" in by_brand.text
        assert "skillet" not in by_brand.text
        in_stock = await dashboard.get(url, params={"available": "false"})
        assert "Oslo 3-seat sofa" in in_stock.text
        assert "skillet" not in in_stock.text
        by_category = await dashboard.get(url, params={"category": "Kitchen"})
        assert "Carbon steel frying pan" in by_category.text
        assert "Oslo" not in by_category.text
        nothing = await dashboard.get(url, params={"q": "zzzqqq"})
        assert "No products match these filters." in nothing.text

        bad_price = await dashboard.get(url, params={"min_price": "cheap"})
        assert bad_price.status_code == 422
        assert "a price of 0 or more" in bad_price.text

    async def test_a_manager_adds_and_edits_a_product(self, client, shop) -> None:
        manager = await add_member(client, shop.owner, shop.tenant, "manager")
        dashboard = await signed_in(client, manager)
        new = f"/app/t/{shop.tenant}/catalog/new-product"
        form = await dashboard.get(new)
        assert 'id="f-product_id"' in form.text
        body = {
            "product_id": "lamp-1",
            "name": "Arc floor lamp",
            "price": "149.00",
            "currency": "sek",
            "category": "Lighting > Floor lamps",
            "available": "on",
        }
        added = await dashboard.post(new, body, htmx=True)
        assert added.status_code == 200, added.text
        assert "Arc floor lamp is added." in added.text
        assert added.headers["hx-push-url"] == f"/app/t/{shop.tenant}/catalog/products/lamp-1"
        assert "<h1>Arc floor lamp</h1>" in added.text  # the heading is swapped in too
        api = await client.get(shop.url("/products/lamp-1"), headers=shop.owner.headers)
        assert api.json()["currency"] == "SEK"
        assert api.json()["category"] == "Lighting > Floor lamps"

        again = await dashboard.post(new, body, htmx=True)
        assert again.status_code == 422
        assert 'id="f-product_id-error"' in again.text

        edit = f"/app/t/{shop.tenant}/catalog/products/lamp-1"
        page = await dashboard.get(edit)
        assert 'value="Arc floor lamp"' in page.text
        saved = await dashboard.post(
            edit, {**body, "name": "Arc lamp", "sale_price": "99", "available": ""}, htmx=True
        )
        assert "Arc lamp is saved." in saved.text
        api = await client.get(shop.url("/products/lamp-1"), headers=shop.owner.headers)
        assert api.json()["sale_price"] == "99"
        assert api.json()["available"] is False

    async def test_the_apis_field_messages_stand_by_their_fields(self, client, shop) -> None:
        dashboard = await signed_in(client, shop.owner)
        new = f"/app/t/{shop.tenant}/catalog/new-product"
        await dashboard.get(new)
        refused = await dashboard.post(
            new,
            {
                "product_id": "x-1",
                "name": "Kettle",
                "price": "20",
                "currency": "EUR",
                "sale_price": "25",
                "gtin": "4006381333932",
            },
            htmx=True,
        )
        assert refused.status_code == 422
        assert 'id="f-sale_price-error">must be below price' in refused.text
        assert 'id="f-gtin-error">not a GTIN' in refused.text
        assert 'value="Kettle"' in refused.text  # what was typed is kept
        missing = await dashboard.post(new, {"product_id": "x-2", "currency": "XYZ"}, htmx=True)
        assert 'id="f-name-error"' in missing.text
        assert 'id="f-currency-error">not an ISO 4217 currency code' in missing.text

        edit = f"/app/t/{shop.tenant}/catalog/products/pan-0"
        emptied = await dashboard.post(
            edit, {"name": "Skillet", "price": "", "currency": "EUR"}, htmx=True
        )
        assert emptied.status_code == 422
        assert 'id="f-price-error"' in emptied.text

    async def test_a_viewer_reads_but_sees_no_form_and_cannot_write(self, client, shop) -> None:
        viewer = await add_member(client, shop.owner, shop.tenant, "viewer")
        dashboard = await signed_in(client, viewer)
        listing = await dashboard.get(f"/app/t/{shop.tenant}/catalog/products")
        assert "Cast iron skillet 28 cm" in listing.text
        assert "Add a product" not in listing.text
        detail = await dashboard.get(f"/app/t/{shop.tenant}/catalog/products/pan-0")
        assert detail.status_code == 200
        assert "Save product" not in detail.text
        assert '<dl class="facts">' in detail.text
        assert (await dashboard.get(f"/app/t/{shop.tenant}/catalog/new-product")).status_code == 403
        refused = await dashboard.post(
            f"/app/t/{shop.tenant}/catalog/products/pan-0", {"name": "Mine"}
        )
        assert refused.status_code == 403
        missing = await dashboard.get(f"/app/t/{shop.tenant}/catalog/products/nope")
        assert missing.status_code == 404


class TestCategories:
    async def test_the_tree_shows_coverage_and_alignment(
        self,
        client,
        shop,
        taxonomy_in_database,  # noqa: F811
    ) -> None:
        categories = await category_ids(client, shop)
        await client.post(
            shop.url(f"/categories/{categories['Furniture > Sofas']}/align"),
            json={"google_category_id": 460},
            headers=shop.owner.headers,
        )
        dashboard = await signed_in(client, shop.owner)
        tree = await dashboard.get(f"/app/t/{shop.tenant}/catalog/categories")
        assert tree.status_code == 200
        assert 'data-kpi="coverage">33.3 %' in tree.text  # 1 of 3 products
        assert "Frying pans" in tree.text
        assert "not aligned" in tree.text
        assert "Furniture &gt; Sofas</td>" in tree.text  # Google's path for the aligned one

    async def test_accept_a_suggestion_then_align_by_hand(
        self,
        client,
        shop,
        taxonomy_in_database,  # noqa: F811
    ) -> None:
        pans = (await category_ids(client, shop))[PANS]
        dashboard = await signed_in(client, shop.owner)
        url = f"/app/t/{shop.tenant}/catalog/categories/{pans}"
        page = await dashboard.get(url)
        assert page.status_code == 200
        assert "Skillets" in page.text
        assert "Accept" in page.text
        accepted = await dashboard.post(
            f"{url}/align", {"google_category_id": str(SKILLETS_ID), "suggested": "1"}, htmx=True
        )
        assert accepted.status_code == 200, accepted.text
        assert "is aligned with" in accepted.text
        assert "Skillets" in accepted.text
        listed = await client.get(shop.url(f"/categories/{pans}"), headers=shop.owner.headers)
        assert listed.json()["google_category_id"] == SKILLETS_ID

        found = await dashboard.get(url, params={"q": "sofa"})
        assert "Furniture &gt; Sofas" in found.text
        manual = await dashboard.post(f"{url}/align", {"google_category_id": "460"}, htmx=True)
        assert "is aligned with Furniture &gt; Sofas." in manual.text
        unknown = await dashboard.post(
            f"{url}/align", {"google_category_id": "99999999"}, htmx=True
        )
        assert unknown.status_code == 422, unknown.text
        not_a_number = await dashboard.post(
            f"{url}/align", {"google_category_id": "abc"}, htmx=True
        )
        assert not_a_number.status_code == 422
        assert 'id="f-google_category_id-error"' in not_a_number.text

    async def test_a_viewer_sees_alignment_but_cannot_change_it(
        self,
        client,
        shop,
        taxonomy_in_database,  # noqa: F811
    ) -> None:
        pans = (await category_ids(client, shop))[PANS]
        viewer = await add_member(client, shop.owner, shop.tenant, "viewer")
        dashboard = await signed_in(client, viewer)
        url = f"/app/t/{shop.tenant}/catalog/categories/{pans}"
        page = await dashboard.get(url)
        assert page.status_code == 200
        assert "Accept" not in page.text
        assert "Align by hand" not in page.text
        refused = await dashboard.post(f"{url}/align", {"google_category_id": "662"})
        assert refused.status_code == 403


async def _run_jobs() -> None:
    await run_queued_jobs("default")


class TestImport:
    async def test_an_uploaded_file_is_imported_by_a_job_with_progress(self, client, shop) -> None:
        dashboard = await signed_in(client, shop.owner)
        url = f"/app/t/{shop.tenant}/catalog/import"
        page = await dashboard.get(url)
        assert "No imports yet." in page.text
        lines = [
            '{"product_id": "imp-1", "name": "Stool", "price": "49.00", "currency": "EUR"}',
            '{"product_id": "imp-2", "name": "Bench", "price": "129.00", "currency": "EUR"}',
            '{"product_id": "imp-3", "name": "Broken", "price": "-1", "currency": "EUR"}',
            "not json",
        ]
        body = "\n".join(lines).encode()
        uploaded = await client.post(
            url,
            files={"file": ("furniture.jsonl", body, "application/x-ndjson")},
            headers={"HX-Request": "true", "X-CSRF-Token": dashboard.csrf},
        )
        assert uploaded.status_code == 200, uploaded.text
        # Kept where a worker on any machine finds it, not on this process's disk.
        tenant_id = uuid.UUID(str(shop.tenant))
        kept = await shared_blobs().entries(tenant_id, "catalog/uploads/")
        assert [blob.size_bytes for blob in kept] == [len(body)]
        assert not (get_settings().resolved_import_dir / str(shop.tenant)).exists()
        assert "furniture.jsonl" in uploaded.text
        assert "queued · 4 rows" in uploaded.text
        assert 'hx-trigger="every 1s"' in uploaded.text  # the row polls until done
        row = re.search(r'hx-get="([^"]+/catalog/imports/[0-9a-f-]+)"', uploaded.text)
        assert row

        await _run_jobs()
        done = await dashboard.get(row.group(1), headers={"HX-Request": "true"})
        assert done.status_code == 200
        assert "done · 4 rows" in done.text
        assert 'value="100"' in done.text
        assert "2 / 0 / 2" in done.text
        assert "every 1s" not in done.text  # finished: no more polling
        api = await client.get(shop.url("/products/imp-2"), headers=shop.owner.headers)
        assert api.json()["name"] == "Bench"
        assert await shared_blobs().entries(tenant_id, "catalog/uploads/") == []  # imported

    async def test_a_file_that_cannot_be_imported_is_refused_by_the_field(
        self, client, shop
    ) -> None:
        dashboard = await signed_in(client, shop.owner)
        url = f"/app/t/{shop.tenant}/catalog/import"
        await dashboard.get(url)
        headers = {"HX-Request": "true", "X-CSRF-Token": dashboard.csrf}
        wrong = await client.post(
            url, files={"file": ("catalog.xlsx", b"PK\x03\x04", "application/zip")}, headers=headers
        )
        assert wrong.status_code == 422
        assert 'id="f-file-error"' in wrong.text
        empty = await client.post(
            url, files={"file": ("empty.csv", b"", "text/csv")}, headers=headers
        )
        assert empty.status_code == 422
        assert "the file is empty" in empty.text
        nothing = await dashboard.post(url, {}, htmx=True)
        assert nothing.status_code == 422
        assert "choose a CSV or JSON-lines file" in nothing.text

    async def test_a_viewer_cannot_import(self, client, shop) -> None:
        viewer = await add_member(client, shop.owner, shop.tenant, "viewer")
        dashboard = await signed_in(client, viewer)
        listing = await dashboard.get(f"/app/t/{shop.tenant}/catalog/products")
        assert "Import a file" not in listing.text
        assert "Import products" not in listing.text  # not in the navigation either
        assert (await dashboard.get(f"/app/t/{shop.tenant}/catalog/import")).status_code == 403


async def test_the_overview_has_a_catalog_card(client, shop) -> None:
    viewer = await add_member(client, shop.owner, shop.tenant, "viewer")
    dashboard = await signed_in(client, viewer)
    page = await dashboard.get(f"/app/t/{shop.tenant}")
    assert 'data-kpi="catalog-products">3<' in page.text
    assert "See products" in page.text  # a viewer is not offered to manage them

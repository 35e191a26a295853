"""Widget configurations over HTTP: validation, the short cache, and the preview page."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from mercato.modules.recommendations import fit_tenant
from mercato.modules.recommendations.file_source import FileSource
from tests.factories import add_member, create_tenant, signup_and_login
from tests.modules.recommendations.catalog_api import stock_the_catalog
from tests.modules.recommendations.shop import furniture, returning_shoppers

CAROUSEL = {
    "title": "Goes well with <this>",
    "layout": "carousel",
    "columns": 3,
    "max_items": 6,
    "show_price": False,
    "cta_text": "See it",
    "product_url": "https://shop.example/p/{product_id}?ref=reco",
    "theme": {"primary_color": "#aa3300", "font_family": "'Iowan Old Style', Georgia, serif"},
}


async def _shop(client):
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    return owner, tenant, f"/api/v1/tenants/{tenant}/widgets"


async def test_an_unconfigured_placement_answers_the_defaults(client) -> None:
    owner, _, url = await _shop(client)
    response = await client.get(f"{url}/home", headers=owner.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["configured"] is False
    assert body["layout"] == "grid"
    assert body["max_items"] == 8


async def test_put_creates_then_replaces_and_reads_see_it_at_once(client) -> None:
    owner, _, url = await _shop(client)
    await client.get(f"{url}/product_page", headers=owner.headers)  # caches the defaults
    created = await client.put(f"{url}/product_page", json=CAROUSEL, headers=owner.headers)
    assert created.status_code == 201, created.text
    assert created.json()["theme"]["primary_color"] == "#aa3300"
    assert created.json()["theme"]["text_color"] == "#1f2328"  # unspecified theme keys default
    read = await client.get(f"{url}/product_page", headers=owner.headers)
    assert read.json()["layout"] == "carousel"
    assert read.json()["configured"] is True
    replaced = await client.put(
        f"{url}/product_page", json={"layout": "list", "columns": 1}, headers=owner.headers
    )
    assert replaced.status_code == 200
    assert (await client.get(f"{url}/product_page", headers=owner.headers)).json()[
        "layout"
    ] == "list"


async def test_widgets_are_listed_and_deleted(client) -> None:
    owner, _, url = await _shop(client)
    assert (await client.get(url, headers=owner.headers)).json()["data"] == []
    for placement in ("product_page", "home"):
        await client.put(f"{url}/{placement}", json=CAROUSEL, headers=owner.headers)
    listed = (await client.get(url, headers=owner.headers)).json()["data"]
    assert [w["placement"] for w in listed] == ["home", "product_page"]
    assert all(w["configured"] for w in listed)
    await client.get(f"{url}/home", headers=owner.headers)  # cached as configured
    deleted = await client.delete(f"{url}/home", headers=owner.headers)
    assert deleted.status_code == 204
    assert (await client.get(f"{url}/home", headers=owner.headers)).json()["configured"] is False
    assert [
        w["placement"] for w in (await client.get(url, headers=owner.headers)).json()["data"]
    ] == ["product_page"]
    again = await client.delete(f"{url}/home", headers=owner.headers)
    assert again.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"layout": "masonry"},
        {"layout": "list", "columns": 3},
        {"columns": 7},
        {"max_items": 0},
        {"columns": 4, "max_items": 2},
        {"cta_text": ""},
        {"theme": {"primary_color": "red; background:url(x)"}},
        {"theme": {"font_family": "x;}</style><script>"}},
        {"theme": {"shadow": "big"}},
        {"product_url": "https://shop.example/p/"},
        {"product_url": "javascript:alert(1)//{product_id}"},
    ],
)
async def test_invalid_configurations_are_422(client, body: dict) -> None:
    owner, _, url = await _shop(client)
    response = await client.put(f"{url}/home", json=body, headers=owner.headers)
    assert response.status_code == 422, response.text


async def test_a_viewer_reads_but_cannot_configure(client) -> None:
    owner, tenant, url = await _shop(client)
    viewer = await add_member(client, owner, tenant, "viewer")
    assert (await client.put(f"{url}/home", json={}, headers=viewer.headers)).status_code == 403
    assert (await client.get(f"{url}/home", headers=viewer.headers)).status_code == 200


async def test_the_preview_renders_real_recommendations(client, tmp_path: Path) -> None:
    owner, tenant, url = await _shop(client)
    events, catalog = tmp_path / "events.jsonl", tmp_path / "catalog.jsonl"
    events.write_text("\n".join(json.dumps(row) for row in returning_shoppers()))
    catalog.write_text("\n".join(json.dumps(row) for row in furniture()))
    await fit_tenant(uuid.UUID(tenant), FileSource(events, catalog))
    await stock_the_catalog(client, owner.headers, tenant, furniture())
    await client.put(f"{url}/product_page", json=CAROUSEL, headers=owner.headers)
    response = await client.get(
        f"{url}/product_page/preview", params={"product_id": "oak-chair"}, headers=owner.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "mw-carousel" in html
    assert "font-family: 'Iowan Old Style', Georgia, serif;" in html  # CSS is not HTML-escaped
    assert "#aa3300" in html
    assert "See it" in html
    assert "Goes well with &lt;this&gt;" in html  # escaped
    assert html.count('class="mw-item"') == 6
    assert 'data-product-id="oak-chair"' not in html
    assert "https://img.example/" in html
    assert 'href="https://shop.example/p/' in html

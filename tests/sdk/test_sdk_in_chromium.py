"""The JS SDK end to end: a merchant page on its own origin loads the bundle from a live
Mercato server, in headless Chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.factories import PASSWORD
from tests.modules.recommendations.catalog_api import stock_the_catalog
from tests.modules.recommendations.shop import furniture, returning_shoppers

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
]

MERCHANT_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Oak Chair · Nordic Home</title></head>
<body>
<h1>Oak Chair</h1>
<div id="similar" data-mercato-placement="product_page" data-product-id="oak-chair"
     data-mercato-shadow></div>
<div id="broken" data-mercato-placement="bad placement!"></div>
<script async src="{api}/sdk/v1/mercato.js" data-key="{key}" data-tenant="{tenant}"
        data-api="{api}"></script>
</body></html>
"""
BLANK_PAGE = "<!doctype html><html><body>nothing here</body></html>"
THANKS_PAGE = "<!doctype html><html><body><h1>Product page</h1></body></html>"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Shop:
    api: str
    page: str
    tenant: str
    key: str
    staff_headers: dict[str, str]


@pytest.fixture(scope="module")
def merchant_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A static web server for the merchant's pages, on its own origin."""
    root = tmp_path_factory.mktemp("merchant-site")
    port = _free_port()
    handler = partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", root
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def live_api(
    tmp_path_factory: pytest.TempPathFactory, merchant_site: tuple[str, Path], app: object
) -> Iterator[str]:
    """`mercato serve` on the suite's database, with no deployment-wide CORS origins: the
    merchant's origin is allowed by the publishable key that lists it."""
    data_dir = tmp_path_factory.mktemp("sdk-live")
    port = _free_port()
    env = {**os.environ, "MERCATO_LOG_LEVEL": "WARNING"}
    env.pop("MERCATO_CORS_ORIGINS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "mercato.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=data_dir,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"the server exited early:\n{output[-4000:]}")
            try:
                if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the server did not become ready")
            time.sleep(0.2)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@pytest.fixture(scope="module")
async def shop(live_api: str, merchant_site: tuple[str, Path], tmp_path_factory) -> Shop:
    """A tenant with a fitted model and a publishable key for the merchant's origin."""
    from mercato.modules.recommendations import fit_tenant
    from mercato.modules.recommendations.file_source import FileSource

    origin, root = merchant_site
    email = f"sdk-{uuid.uuid4().hex[:8]}@shop.example"
    async with httpx.AsyncClient(base_url=live_api, timeout=10) as http:
        await http.post(
            "/api/v1/auth/signup", json={"email": email, "password": PASSWORD, "name": "Merchant"}
        )
        login = await http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        staff = {"Authorization": f"Bearer {login.json()['access_token']}"}
        tenant = (await http.post("/api/v1/tenants", json={"name": "Nordic"}, headers=staff)).json()
        key = await http.post(
            f"/api/v1/tenants/{tenant['id']}/api-keys",
            json={
                "name": "storefront",
                "kind": "publishable",
                "permission": "read_write",
                "allowed_origins": [origin],
            },
            headers=staff,
        )
        assert key.status_code == 201, key.text
        widget = await http.put(
            f"/api/v1/tenants/{tenant['id']}/widgets/product_page",
            json={
                "title": "You may also like",
                "layout": "grid",
                "columns": 3,
                "max_items": 3,
                "product_url": f"{origin}/product.html?id={{product_id}}",
            },
            headers=staff,
        )
        assert widget.status_code == 201, widget.text
        await stock_the_catalog(http, staff, tenant["id"], furniture())
    files = tmp_path_factory.mktemp("sdk-shop")
    (files / "events.jsonl").write_text("\n".join(json.dumps(r) for r in returning_shoppers()))
    (files / "catalog.jsonl").write_text("\n".join(json.dumps(r) for r in furniture()))
    await fit_tenant(
        uuid.UUID(tenant["id"]), FileSource(files / "events.jsonl", files / "catalog.jsonl")
    )
    page = MERCHANT_PAGE.format(api=live_api, key=key.json()["key"], tenant=tenant["id"])
    (root / "oak-chair.html").write_text(page, encoding="utf-8")
    (root / "blank.html").write_text(BLANK_PAGE, encoding="utf-8")
    (root / "product.html").write_text(THANKS_PAGE, encoding="utf-8")
    return Shop(live_api, f"{origin}/oak-chair.html", tenant["id"], key.json()["key"], staff)


async def test_the_widget_renders_and_the_sdk_adds_only_window_mercato(shop: Shop, browser) -> None:
    page = await browser.new_page()
    await page.goto(shop.page.replace("oak-chair.html", "blank.html"))
    before = set(await page.evaluate("Object.keys(window)"))
    await page.goto(shop.page)
    items = page.locator("#similar li")
    await items.first.wait_for(timeout=15_000)
    assert await items.count() == 3
    shown = [await items.nth(n).get_attribute("data-product-id") for n in range(3)]
    assert "oak-chair" not in shown
    image = await items.first.locator("img").get_attribute("src")
    assert image.startswith("https://img.example/")
    assert await page.locator("#similar h3").inner_text() == "You may also like"
    assert await page.evaluate("document.getElementById('similar').shadowRoot !== null")
    assert await page.evaluate("document.getElementById('broken').hidden")
    after = set(await page.evaluate("Object.keys(window)"))
    assert after - before == {"Mercato"}
    assert await page.evaluate("typeof Mercato.track") == "function"
    await page.close()


async def _events(shop: Shop, user_id: str, kind: str, expected: int) -> list[dict]:
    """The stored events of one type for a shopper, waiting for them to arrive."""
    deadline = time.monotonic() + 20
    async with httpx.AsyncClient(base_url=shop.api, headers=shop.staff_headers) as http:
        while True:
            response = await http.get(
                f"/api/v1/tenants/{shop.tenant}/events",
                params={"user_id": user_id, "type": kind, "limit": 100},
            )
            assert response.status_code == 200, response.text
            found = response.json()["data"]
            if len(found) >= expected or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.3)


async def test_impressions_and_a_click_reach_the_events_table(shop: Shop, browser) -> None:
    page = await browser.new_page()
    await page.goto(shop.page)
    items = page.locator("#similar li")
    await items.first.wait_for(timeout=15_000)
    user_id = await page.evaluate("Mercato.userId")
    shown = [await items.nth(n).get_attribute("data-product-id") for n in range(3)]

    impressions = await _events(shop, user_id, "impression", 3)
    assert sorted(event["product_id"] for event in impressions) == sorted(shown)
    for event in impressions:
        assert event["placement"] == "product_page"
        assert event["strategy"] == "auto"
        assert event["source"] == "api"

    async with page.expect_navigation():
        await items.nth(1).locator("a").click()  # leaves the page: the beacon carries it
    assert "product.html?id=" in page.url
    clicks = await _events(shop, user_id, "click", 1)
    assert [event["product_id"] for event in clicks] == [shown[1]]
    assert clicks[0]["placement"] == "product_page"
    await page.close()


FETCH_RECOMMENDATIONS = """async ([api, tenant, key]) => {
  const url = `${api}/api/v1/tenants/${tenant}/recommendations?placement=product_page`;
  try {
    const response = await fetch(url, { headers: { "X-API-Key": key } });
    return `read ${response.status}`;
  } catch (error) {
    return "refused";
  }
}"""


async def test_only_the_origins_listed_on_the_key_can_read_answers(shop: Shop, browser) -> None:
    """The key lists http://127.0.0.1:<port>; http://localhost:<port> is another origin."""
    page = await browser.new_page()
    arguments = [shop.api, shop.tenant, shop.key]
    await page.goto(shop.page.replace("oak-chair.html", "blank.html"))
    assert (await page.evaluate(FETCH_RECOMMENDATIONS, arguments)).startswith("read ")
    await page.goto(shop.page.replace("127.0.0.1", "localhost").replace("oak-chair", "blank"))
    assert await page.evaluate(FETCH_RECOMMENDATIONS, arguments) == "refused"
    await page.close()

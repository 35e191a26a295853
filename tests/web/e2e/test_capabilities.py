"""The capability screens in a real browser against the live demo: catalog, channels,
personalization and tracking, the way a merchant walks through them after logging in."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from tests.web.e2e.conftest import LiveServer, console_problems

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
]


async def _login(page, server: LiveServer) -> str:
    await page.goto(f"{server.url}/app")
    await page.get_by_label("E-mail address").fill(server.email)
    await page.get_by_label("Password").fill(server.password)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(re.compile(r"/app/t/[0-9a-f-]{36}$"))
    return page.url


async def _open(page, name: str) -> None:
    """Follow a navigation link and wait for the page's heading."""
    await page.get_by_role("link", name=name, exact=True).click()
    await page.wait_for_url(re.compile(r"/app/t/"))


def _field(page, label: str):
    """A form field by its whole label (a required one's label ends with " *")."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


async def _shot(page, path: Path) -> None:
    """A full-page screenshot from the top (an htmx swap may have scrolled the page)."""
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=path, full_page=True)


async def _kpi(page, name: str) -> int:
    locator = page.locator(f'[data-kpi="{name}"]').first
    await locator.wait_for()
    return int((await locator.inner_text()).strip())


async def test_create_a_product_run_a_precheck_and_start_an_experiment(
    browser, live_server: LiveServer, screenshots: Path
) -> None:
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, color_scheme="light"
    )
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = await context.new_page()
    messages: list[tuple[str, str]] = []
    page.on(
        "console",
        lambda m: (
            messages.append((m.text, m.location.get("url", ""))) if m.type == "error" else None
        ),
    )
    page.on("dialog", lambda dialog: dialog.accept())
    suffix = uuid.uuid4().hex[:6]

    await _login(page, live_server)
    await page.get_by_role("heading", name="Nordic Home & Garden").wait_for()
    # A figure the overview shows today: the demo's stores and warehouses.
    locations = page.locator("section[aria-labelledby=panel-locations] .kpi-value")
    assert int(await locations.inner_text()) > 0

    # Catalog: the list searches the demo's 500 products; a new one is added by the form.
    await _open(page, "Products")
    await page.get_by_role("heading", name="Products", exact=True).wait_for()
    assert await page.locator("#products-results tbody tr").count() > 0
    await _shot(page, screenshots / "products.png")
    await page.get_by_role("link", name="Add a product").click()
    await _field(page, "Product id").fill(f"e2e-lamp-{suffix}")
    await _field(page, "Name").fill("Aurora floor lamp")
    await _field(page, "Price").fill("abc")
    await _field(page, "Currency").fill("EUR")
    before = len(messages)
    await page.get_by_role("button", name="Add product").click()
    await page.locator("#f-price-error").wait_for()  # the API's message, by its field
    # The browser logs the deliberate 422 (the answer htmx swaps in); nothing else.
    refused = [text for text, _ in messages[before:]]
    assert refused == [
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    ]
    del messages[before:]
    assert await _field(page, "Name").input_value() == "Aurora floor lamp"
    await _field(page, "Price").fill("189.00")
    await _field(page, "Category").fill("Lighting > Floor lamps")
    await page.get_by_role("button", name="Add product").click()
    await page.get_by_text("Aurora floor lamp is added.").wait_for()
    await _shot(page, screenshots / "product-form.png")
    await _open(page, "Products")
    await _field(page, "Search").fill("aurora lamp")
    await page.get_by_role("button", name="Search").click()
    await page.locator("#products-results").get_by_text("Aurora floor lamp").wait_for()

    await _open(page, "Categories")
    await page.get_by_role("heading", name="Google alignment coverage").wait_for()
    await _shot(page, screenshots / "categories.png")

    # Channels: a precheck of every product against Merchant Center's specification.
    await _open(page, "Google channels")
    await page.get_by_role("button", name="Run precheck").click()
    assert await _kpi(page, "checked") > 0
    await _shot(page, screenshots / "channels.png")

    # Personalization: create an experiment and start it.
    await _open(page, "Experiments")
    name = f"Blend vs trending {suffix}"
    await _field(page, "Name").fill(name)
    await _field(page, "Placement").fill(f"home_{suffix}")
    await page.get_by_label("Variant strategy").select_option("content_based")
    await page.get_by_role("button", name="Create experiment").click()
    await page.get_by_text(f"“{name}” is created as a draft.").wait_for()
    await page.get_by_role("link", name=name).click()
    await page.get_by_role("button", name="Start").click()
    await page.get_by_text(f"“{name}” is running.").wait_for()
    assert await page.locator("[data-status]").text_content() == "running"
    await _open(page, "Experiments")
    demo = page.locator("#experiments-screen tbody tr", has=page.locator(".status-running"))
    await demo.last.get_by_role("link").click()
    await page.get_by_role("heading", name="Results").wait_for()
    await _shot(page, screenshots / "experiment-results.png")

    await _open(page, "Widgets")
    frame = page.frame_locator("iframe.widget-frame")
    await frame.locator(".mercato-widget").wait_for()
    await _field(page, "Title").fill("Picked for you")
    await frame.get_by_text("Picked for you").wait_for()  # the live preview follows the form
    await _shot(page, screenshots / "widget-editor.png")

    await _open(page, "Recommendations")
    first_product = await _first_product_id(page, live_server)
    await page.get_by_label("Product id").fill(first_product)
    await page.get_by_role("button", name="Show recommendations").click()
    await page.locator(".strategy-column").first.wait_for()
    assert await page.locator(".strategy-column").count() == 4
    await _shot(page, screenshots / "recommendations.png")

    # Tracking: the ingestion calendar and the event explorer on the simulated traffic.
    await _open(page, "Tracking")
    assert await _kpi(page, "events") > 0
    await _shot(page, screenshots / "tracking.png")
    await _open(page, "Event explorer")
    await page.locator("#events-results tbody tr").first.wait_for()
    await _shot(page, screenshots / "events.png")
    await page.locator("#events-results tbody tr a").first.click()
    await page.get_by_role("heading", name=re.compile("^Shopper ")).wait_for()

    await _open(page, "Business profile")
    await page.get_by_role("heading", name="Check").wait_for()
    await _shot(page, screenshots / "business-profile.png")

    await page.get_by_label(re.compile("^Account:")).click()
    await page.get_by_role("button", name="Log out").click()
    await page.get_by_text("You are logged out.").wait_for()
    assert console_problems(messages) == []
    await context.close()


async def _first_product_id(page, server: LiveServer) -> str:
    """A demo product id, read off the product list as a merchant would."""
    products = await page.context.new_page()
    catalog = page.url.replace("personalization/recommendations", "catalog/products")
    await products.goto(f"{catalog}?q=sofa")
    code = products.locator("#products-results tbody tr code").first
    await code.wait_for()
    product_id = (await code.inner_text()).strip()
    await products.close()
    return product_id


async def test_capability_pages_fit_a_phone_in_dark_mode(
    browser, live_server: LiveServer, screenshots: Path
) -> None:
    context = await browser.new_context(
        viewport={"width": 375, "height": 812}, color_scheme="dark", is_mobile=True
    )
    page = await context.new_page()
    home = await _login(page, live_server)
    for path in (
        "catalog/products",
        "catalog/new-product",
        "catalog/import",
        "catalog/categories",
        "channels",
        "business-profile",
        "personalization/experiments",
        "personalization/widgets",
        "personalization/recommendations",
        "content/pages",
        "tracking",
        "events",
        "feedback",
        "settings/integrations",
    ):
        await page.goto(f"{home}/{path}")
        await page.locator("main h1").wait_for()
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide"
    await _shot(page, screenshots / "tracking-phone-dark.png")
    await context.close()

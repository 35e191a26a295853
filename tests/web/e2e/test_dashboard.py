"""The dashboard in a real browser against a live demo server: what a merchant does first."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from tests.web.e2e.conftest import LiveServer, make_login_stale

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
]

KEY = re.compile(r"^mk_live_[0-9A-Za-z]{43}$")


async def _login(page, server: LiveServer) -> str:
    await page.goto(f"{server.url}/app")
    await page.get_by_label("E-mail address").fill(server.email)
    await page.get_by_label("Password").fill(server.password)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(re.compile(r"/app/t/[0-9a-f-]{36}$"))
    return urlparse(page.url).path


async def test_log_in_see_the_overview_create_a_key_through_step_up_and_log_out(
    browser, live_server: LiveServer, screenshots: Path
) -> None:
    context = await browser.new_context(
        viewport={"width": 1280, "height": 860}, color_scheme="light"
    )
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda dialog: dialog.accept())

    await page.goto(f"{live_server.url}/app")
    await page.get_by_role("heading", name="Log in").wait_for()
    await page.screenshot(path=screenshots / "login.png")

    home = await _login(page, live_server)
    await page.get_by_role("heading", name="Nordic Home & Garden").wait_for()
    team = page.locator("section[aria-labelledby=panel-members] .kpi-value")
    assert await team.inner_text() == "1"
    locations = page.locator("section[aria-labelledby=panel-locations] .kpi-value")
    assert int(await locations.inner_text()) > 0  # the demo's stores and warehouses
    assert await page.locator("svg.chart-bar").count() == 1
    revenue = await page.locator("[data-kpi=revenue]").inner_text()
    assert revenue.startswith("€")  # the demo shop's currency, as its locale (en) writes it
    assert float(revenue[1:].replace(",", "")) > 0  # the demo's rolled-up history
    await page.screenshot(path=screenshots / "overview.png", full_page=True)

    await page.get_by_role("link", name="Members & roles").click()
    await page.get_by_role("heading", name="Members & roles").wait_for()
    await page.screenshot(path=screenshots / "members.png", full_page=True)

    await make_login_stale(context, live_server)
    await page.get_by_role("link", name="API keys").click()
    await page.get_by_label("Name").fill("Storefront sync")
    await page.get_by_label("Read and write").check()
    await page.get_by_role("button", name="Create key").click()
    password = page.get_by_label("Your password")
    await password.wait_for()
    assert await page.get_by_label("Name").input_value() == "Storefront sync"
    await password.fill(live_server.password)
    await page.get_by_role("button", name="Create key").click()
    shown = page.get_by_label("The new API key")
    await shown.wait_for()
    key = await shown.input_value()
    assert KEY.match(key)
    await page.get_by_role("button", name="Copy").click()
    await page.get_by_text("Copied to the clipboard.").wait_for()
    assert await page.evaluate("navigator.clipboard.readText()") == key
    await page.screenshot(
        path=screenshots / "api-keys.png", full_page=True, mask=[shown], mask_color="#d6dbe3"
    )

    tenant_id = home.rsplit("/", 1)[1]
    async with httpx.AsyncClient(base_url=live_server.url) as api:
        works = await api.get(f"/api/v1/tenants/{tenant_id}", headers={"X-API-Key": key})
    assert works.status_code == 200
    await page.reload()
    assert key not in await page.content()
    assert key[:12] in await page.content()

    await page.get_by_role("link", name="Audit log").click()
    await page.get_by_text("api_key.created").first.wait_for()
    await page.screenshot(path=screenshots / "audit-log.png", full_page=True)

    # The access cookie lapses: the next page resumes the session with the refresh cookie.
    await context.clear_cookies(name="mercato_access")
    await page.goto(f"{live_server.url}{home}")
    await page.wait_for_url(f"{live_server.url}{home}")
    await page.get_by_role("heading", name="Nordic Home & Garden").wait_for()

    await page.get_by_label(re.compile("^Account:")).click()
    await page.get_by_role("button", name="Log out").click()
    await page.get_by_text("You are logged out.").wait_for()
    await page.goto(f"{live_server.url}{home}")
    await page.wait_for_url(re.compile(r"/app/login"))
    assert await page.get_by_label("E-mail address").is_visible()
    assert problems == []
    await context.close()


async def test_a_phone_in_dark_mode_gets_a_usable_keyboard_friendly_page(
    browser, live_server: LiveServer, screenshots: Path
) -> None:
    context = await browser.new_context(
        viewport={"width": 375, "height": 812}, color_scheme="dark", is_mobile=True
    )
    page = await context.new_page()
    await _login(page, live_server)
    await page.get_by_role("heading", name="Nordic Home & Garden").wait_for()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(16, 20, 27)"  # the dark theme, from prefers-color-scheme

    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"

    members = page.get_by_role("link", name="Members & roles")
    assert not await members.is_visible()
    menu = page.get_by_role("button", name="Menu")
    await menu.focus()
    await page.keyboard.press("Enter")
    assert await menu.get_attribute("aria-expanded") == "true"
    assert await members.is_visible()
    assert await page.evaluate("document.activeElement.textContent.trim()") == "Overview"
    await page.screenshot(path=screenshots / "overview-phone-dark.png", full_page=True)

    await page.get_by_role("button", name="Switch between light and dark theme").click()
    assert await page.evaluate("document.documentElement.dataset.theme") == "light"
    await page.reload()
    assert await page.evaluate("document.documentElement.dataset.theme") == "light"
    await context.close()

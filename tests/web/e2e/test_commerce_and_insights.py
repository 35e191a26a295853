"""The commerce and insights screens in a real browser against the live demo: the overview's
KPI cards and date range, orders (a transition, a refund behind step-up), stock, the four
task lists and the branch reports, the way a merchant walks through them."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.web.e2e.conftest import LiveServer, console_problems, make_login_stale

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
    await page.get_by_role("navigation").get_by_role("link", name=name, exact=True).first.click()
    await page.get_by_role("heading", level=1, name=name).wait_for()


def _field(page, label: str):
    """A form field by its whole label (a required one's label ends with " *")."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


async def _shot(page, path: Path, *, full_page: bool = True) -> None:
    """A screenshot from the top (an htmx swap may have scrolled the page); long lists take
    only the first screenful."""
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=path, full_page=full_page)


async def _kpi(page, name: str) -> float:
    value = page.locator(f'[data-kpi="{name}"]').first
    await value.wait_for()
    # "€1,234.50", "3.45%", "1,234": the demo shop writes en with EUR
    return float(re.sub(r"[^0-9.]", "", await value.inner_text()))


EMPTY_STYLE = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
"""The CSP hash of an empty inline style. Playwright's `fill` and `select_option` leave an
empty `style=""` on the control; htmx's settle step copies it to the swapped-in control, and
Chromium reports that as a blocked inline style. A real inline style has another hash."""


def _collect_errors(page) -> list[tuple[str, str]]:
    messages: list[tuple[str, str]] = []
    page.on(
        "console",
        lambda m: (
            messages.append((m.text, m.location.get("url", "")))
            if m.type == "error" and EMPTY_STYLE not in m.text
            else None
        ),
    )
    page.on("pageerror", lambda error: messages.append((f"page error: {error}", "")))
    return messages


async def test_overview_kpis_follow_the_date_range(
    browser, live_server: LiveServer, screenshots: Path
) -> None:
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, color_scheme="light"
    )
    page = await context.new_page()
    messages = _collect_errors(page)
    home = await _login(page, live_server)
    await page.get_by_role("heading", name="Sales and traffic").wait_for()
    month_revenue = await _kpi(page, "revenue")
    month_sessions = await _kpi(page, "sessions")
    assert month_revenue > 0
    assert month_sessions > 0
    # The cards sit side by side (the dashboard's stylesheet applies), not one per row.
    cards = page.locator(".kpi-card")
    first, second = await cards.nth(0).bounding_box(), await cards.nth(1).bounding_box()
    assert first is not None
    assert second is not None
    assert first["y"] == second["y"]
    assert second["x"] > first["x"]
    await _shot(page, screenshots / "overview-kpis.png", full_page=False)

    # The demo's history ends yesterday: the last week of it is a smaller slice of the month.
    end = date.today() - timedelta(days=1)
    await page.get_by_label("From", exact=True).fill((end - timedelta(days=6)).isoformat())
    await page.get_by_label("To", exact=True).fill(end.isoformat())
    await page.get_by_role("button", name="Show").click()
    await page.wait_for_url(re.compile(r"\?start=.*&end="))
    await page.get_by_text(f"{end - timedelta(days=6)} to {end}, compared with").wait_for()
    week_revenue = await _kpi(page, "revenue")
    week_sessions = await _kpi(page, "sessions")
    assert 0 < week_revenue < month_revenue
    assert 0 < week_sessions < month_sessions
    assert page.url.startswith(home)

    # A range that ends before it starts is refused by the picker, not a broken page.
    await page.get_by_label("From", exact=True).fill(end.isoformat())
    await page.get_by_label("To", exact=True).fill((end - timedelta(days=3)).isoformat())
    before = len(messages)
    await page.get_by_role("button", name="Show").click()
    await page.locator("#range-error").wait_for()
    assert await page.locator('[data-kpi="revenue"]').count() == 0
    del messages[before:]  # a refused range may be answered with a 4xx, which the console logs
    assert console_problems(messages) == []
    await context.close()


async def test_an_order_moves_on_and_a_refund_asks_for_step_up(
    browser, live_server: LiveServer, screenshots: Path
) -> None:
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, color_scheme="light"
    )
    page = await context.new_page()
    messages = _collect_errors(page)
    page.on("dialog", lambda dialog: dialog.accept())
    await _login(page, live_server)

    await _open(page, "Orders")
    rows = page.locator("#orders-screen tbody tr")
    await rows.first.wait_for()
    assert await rows.count() > 0
    await _shot(page, screenshots / "orders.png", full_page=False)

    # The newest demo orders are paid: filter on that and open one.
    await page.get_by_label("Status").select_option("paid")
    await page.get_by_role("button", name="Filter").click()
    await page.locator("#orders-screen .badge.status-paid").first.wait_for()
    # The list is swapped in place: wait until it shows paid orders only.
    await expect(page.locator("#orders-screen tbody .badge:not(.status-paid)")).to_have_count(0)
    await rows.first.get_by_role("link").click()
    await page.get_by_role("heading", name="History").wait_for()
    history = page.locator("#order-screen .timeline li")
    steps = await history.count()

    await page.get_by_role("button", name="Mark fulfilled").click()
    await page.get_by_text("The order is now fulfilled.").wait_for()
    assert await history.count() == steps + 1
    assert "→ fulfilled" in (await history.last.inner_text()).replace("\n", " ")
    assert await page.locator("#order-summary-title .badge").text_content() == "fulfilled"
    await _shot(page, screenshots / "order.png")

    # A refund gives money back: with a ten-minute-old login it asks for the password first.
    await make_login_stale(context, live_server)
    await _field(page, "Amount").fill("1.00")
    await _field(page, "Reason").fill("Scratched on arrival")
    await page.get_by_role("button", name="Refund", exact=True).click()
    password = page.get_by_label(re.compile("^Your password"))
    await password.wait_for()
    assert await _field(page, "Amount").input_value() == "1.00"
    assert await page.locator("#order-screen .alert-success").count() == 0
    await password.fill(live_server.password)
    await page.get_by_role("button", name="Refund", exact=True).click()
    await page.get_by_text(re.compile(r"^Refunded; \D{1,3}1\.00 refunded in total\.$")).wait_for()
    payments = page.locator("section[aria-labelledby=payments-title]")
    # the order's own currency, as the demo shop's locale (en) writes it: "Refund €1.00 by …"
    await payments.get_by_text(
        re.compile(r"^Refund \D{1,3}1\.00 .*Scratched on arrival$")
    ).wait_for()
    assert await page.locator("#order-summary-title .badge").text_content() == "partially refunded"
    assert "→ partially refunded" in (await history.last.inner_text()).replace("\n", " ")
    assert console_problems(messages) == []
    await context.close()


async def test_set_stock_and_see_available_change(
    browser, live_server: LiveServer, screenshots: Path
) -> None:
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, color_scheme="light"
    )
    page = await context.new_page()
    messages = _collect_errors(page)
    await _login(page, live_server)
    await _open(page, "Stock")
    row = page.locator("#stock-screen tbody tr").first
    await row.wait_for()
    product = (await row.locator('[data-label="Product"]').inner_text()).strip()
    location = (await row.locator('[data-label="Location"]').inner_text()).strip()
    on_hand = int(await row.locator('[data-label="On hand"]').inner_text())
    reserved = int(await row.locator('[data-label="Reserved"]').inner_text())

    await row.get_by_role("link", name=re.compile("^Edit")).click()
    assert await _field(page, "Product id").input_value() == product
    assert await page.locator("#f-location_code").input_value() == location
    target = on_hand + 25
    await _field(page, "On hand").fill(str(target))
    await page.get_by_role("button", name="Save stock").click()
    available = target - reserved
    await page.get_by_text(
        f"{product} at {location}: {target} on hand, {available} available."
    ).wait_for()

    await page.locator("#filter-location").select_option(location)
    await page.get_by_role("button", name="Filter").click()
    changed = page.locator(
        "#stock-screen tbody tr", has=page.locator('[data-label="Product"]', has_text=product)
    )
    await changed.first.wait_for()
    assert int(await changed.first.locator('[data-label="On hand"]').inner_text()) == target
    assert int(await changed.first.locator('[data-label="Available"]').inner_text()) == available
    await _shot(page, screenshots / "stock.png", full_page=False)

    # A negative count is refused by the form, by its field.
    await row.get_by_role("link", name=re.compile("^Edit")).click()
    await _field(page, "On hand").fill("-3")
    before = len(messages)
    await page.get_by_role("button", name="Save stock").click()
    await page.locator("#f-on_hand-error").wait_for()
    del messages[before:]  # the deliberate 422
    assert console_problems(messages) == []
    await context.close()


async def test_the_four_task_lists_and_marking_one_done(
    browser, live_server: LiveServer, screenshots: Path
) -> None:
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, color_scheme="light"
    )
    page = await context.new_page()
    messages = _collect_errors(page)
    await _login(page, live_server)
    await _open(page, "Tasks")
    tabs = page.get_by_role("navigation", name="Task lists")
    counts: dict[str, int] = {}
    for title in ("Purchase follow-ups", "Abandoned carts", "Search gaps", "Repeat visitors"):
        await tabs.get_by_role("link", name=title).click()
        await page.get_by_role("heading", level=2, name=re.compile(f"^{title}")).wait_for()
        assert await tabs.get_by_role("link", name=title).get_attribute("aria-current") == "page"
        counts[title] = await page.locator("#tasks-screen tbody tr").count()
    assert sum(counts.values()) > 0, counts

    busiest = max(counts, key=lambda title: counts[title])
    await tabs.get_by_role("link", name=busiest).click()
    await page.get_by_role("heading", level=2, name=re.compile(f"^{busiest}")).wait_for()
    await _shot(page, screenshots / "tasks.png", full_page=False)
    first = page.locator("#tasks-screen tbody tr").first
    done = first.get_by_role("button", name=re.compile("^Done"))
    key = (await done.inner_text()).removeprefix("Done").strip()
    await done.click()
    await page.get_by_text("Marked done.").wait_for()
    # The open list no longer holds it; the done list does.
    assert await page.get_by_role("button", name=f"Done {key}").count() == 0
    await page.get_by_label("Status").select_option("done")
    await page.get_by_role("button", name="Filter").click()
    await page.get_by_role("button", name="Reopen").first.wait_for()
    assert key in await page.locator("#tasks-screen tbody").inner_html()
    assert console_problems(messages) == []
    await context.close()


async def test_send_a_report_now_and_see_it_queued(
    browser, live_server: LiveServer, screenshots: Path
) -> None:
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, color_scheme="light"
    )
    page = await context.new_page()
    messages = _collect_errors(page)
    await _login(page, live_server)
    await _open(page, "Reports")
    await page.get_by_role("heading", name="Branch recipients").wait_for()
    assert await page.locator("#reports-screen section").first.locator("tbody tr").count() > 0
    jobs = page.locator("section[aria-labelledby=jobs-title] tbody tr")
    before = await jobs.count()

    await page.get_by_label("Period").select_option("day")
    await page.get_by_role("button", name="Send report now").click()
    notice = page.get_by_text(re.compile(r"^Report job [0-9a-f-]{36} queued"))
    await notice.wait_for()
    assert await jobs.count() == before + 1
    newest = (await jobs.first.inner_text()).replace("\n", " ")
    assert "manual" in newest or "queued" in newest, newest
    await _shot(page, screenshots / "reports.png")
    assert console_problems(messages) == []
    await context.close()


async def test_commerce_and_insights_pages_fit_a_phone(
    browser, live_server: LiveServer, screenshots: Path
) -> None:
    context = await browser.new_context(
        viewport={"width": 375, "height": 812}, color_scheme="dark", is_mobile=True
    )
    page = await context.new_page()
    messages = _collect_errors(page)
    home = await _login(page, live_server)
    for path in ("orders", "stock", "tasks", "tasks?list=search_gaps", "reports"):
        await page.goto(f"{home}/{path}")
        await page.locator("main h1").wait_for()
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide"
    await page.goto(f"{home}/orders")
    await page.locator("#orders-screen tbody tr a").first.click()
    await page.get_by_role("heading", name="History").wait_for()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"an order is {width}px wide"
    assert console_problems(messages) == []
    await context.close()

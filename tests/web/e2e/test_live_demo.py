"""A fresh demo is believable and alive: `serve --demo` with its simulated traffic, checked
in Chromium the way a visitor of the demo would look at it.

The demo here runs its stream at 3 visits a second (the default is 2) so the live parts
fill within a minute: today's cards rise, the demo experiment gets shoppers in both arms
and an interval, and the closed funnel of the last 30 days stays monotonic with a
conversion rate in the 1-4 % range of real shops.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mercato.demo.experiments import DEMO_EXPERIMENT
from tests.web.e2e.conftest import LiveServer, demo_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
]

TRAFFIC_RATE = 3
WAIT_S = 120
NUMBER = re.compile(r"[\d,]+(?:\.\d+)?")


@pytest.fixture(scope="module")
def live_demo(
    tmp_path_factory: pytest.TempPathFactory, live_server: LiveServer
) -> Iterator[LiveServer]:
    """A second `serve --demo` on the database the shared server seeded (so it starts in
    seconds), with its traffic on. The demo login is kept with the data directory but its
    password is set by the first seed, so this one is given the same file."""
    data_dir = tmp_path_factory.mktemp("live-demo")
    shutil.copy(live_server.data_dir / "demo-credentials.json", data_dir)
    with demo_server(data_dir, traffic_rate=TRAFFIC_RATE, ready_s=300) as server:
        yield server


def _number(text: str) -> float:
    found = NUMBER.search(text)
    assert found, text
    return float(found.group().replace(",", ""))


async def _login(page, server: LiveServer) -> str:
    await page.goto(f"{server.url}/app")
    await page.get_by_label("E-mail address").fill(server.email)
    await page.get_by_label("Password").fill(server.password)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(re.compile(r"/app/t/[0-9a-f-]{36}$"))
    return page.url


async def _today(page, home: str) -> tuple[float, float, float]:
    """Today's live card: revenue, orders, product views."""
    await page.goto(home)
    card = [page.locator(f"[data-live={name}]") for name in ("revenue", "orders", "views")]
    revenue, orders, views = [_number(await part.inner_text()) for part in card]
    return revenue, orders, views


async def _until(check, what: str) -> None:
    """Poll `check()` (an async callable returning a bool) until true, for WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while not await check():
        assert time.monotonic() < deadline, f"not within {WAIT_S}s: {what}"
        await asyncio.sleep(3)


async def test_the_demo_moves_and_looks_like_a_real_shop(
    browser, live_demo: LiveServer, screenshots: Path
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(60_000)  # the server also serves the stream, on a shared machine
    home = await _login(page, live_demo)

    async def orders_today() -> bool:
        revenue, orders, views = await _today(page, home)
        return revenue > 0 and orders > 0 and views > 0

    await _until(orders_today, "today's live card shows revenue, orders and product views")
    first = await _today(page, home)
    await asyncio.sleep(8)
    later = await _today(page, home)
    assert later[2] > first[2]  # product views keep coming
    assert later[0] >= first[0]
    assert later[1] >= first[1]

    # The last 30 days: the closed funnel never widens, conversion like a real shop's.
    steps = [
        _number(text.split("·")[1])
        for text in await page.locator("#analytics text.funnel-label").all_text_contents()
    ]
    assert len(steps) == 4
    assert steps[-1] > 0
    assert steps == sorted(steps, reverse=True)
    conversion = _number(await page.locator("[data-kpi=conversion_rate]").inner_text())
    assert 1.0 <= conversion <= 4.0
    await page.screenshot(path=screenshots / "live-overview.png", full_page=True)

    # The demo experiment: shoppers in every arm, and an interval of each lift.
    await page.get_by_role("link", name="Experiments", exact=True).click()
    await page.get_by_role("link", name=DEMO_EXPERIMENT.name).click()
    experiment = page.url

    async def interval_shown() -> bool:
        await page.goto(experiment)
        return await page.locator("figure.chart-figure").count() >= 1  # one per arm vs control

    await _until(interval_shown, "the demo experiment shows an interval")
    users = [_number(t) for t in await page.locator("td[data-label=Users]").all_inner_texts()]
    assert len(users) >= 2
    assert all(count > 0 for count in users)
    await page.screenshot(path=screenshots / "live-experiment.png", full_page=True)

    # The recommendation explorer opens on an example product, with its lists.
    await page.get_by_role("link", name="Recommendations", exact=True).click()
    await page.locator("[data-example]").wait_for()
    assert await page.get_by_label("Product id").input_value()
    await page.locator("#explorer-results .product-tile").first.wait_for()
    await context.close()

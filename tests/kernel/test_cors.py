"""CORS never lets a storefront origin use a staff cookie (issue 17, finding 12).

A storefront page on the same site as the dashboard (or a script injected into it) used
to be allowed credentialed cross-origin calls, so it could POST `/api/v1/auth/refresh`
with the staff refresh cookie and read fresh tokens. Real preflights and requests go
through the application built with both settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.factories import signup_and_login
from tests.modules.integrations.fakes import patched_settings

STOREFRONT = "https://shop.example.com"
DASHBOARD = "https://admin.example.com"
ELSEWHERE = "https://evil.example"


@pytest.fixture
async def browser(app) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an application configured with a storefront and a dashboard origin."""
    from mercato.app import create_app

    with patched_settings(cors_origins=STOREFRONT, cors_credentialed_origins=DASHBOARD):
        configured = create_app()
        transport = httpx.ASGITransport(app=configured)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def _preflight(client: httpx.AsyncClient, origin: str) -> httpx.Response:
    return await client.options(
        "/api/v1/auth/refresh",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )


async def test_a_storefront_preflight_is_allowed_without_credentials(browser) -> None:
    response = await _preflight(browser, STOREFRONT)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == STOREFRONT
    assert "access-control-allow-credentials" not in response.headers


async def test_a_dashboard_preflight_is_allowed_with_credentials(browser) -> None:
    response = await _preflight(browser, DASHBOARD)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == DASHBOARD
    assert response.headers["access-control-allow-credentials"] == "true"


async def test_an_unlisted_origin_gets_no_cors_at_all(browser) -> None:
    response = await _preflight(browser, ELSEWHERE)
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_a_storefront_page_cannot_spend_the_staff_refresh_cookie(browser) -> None:
    staff = await signup_and_login(browser)  # the login set the HttpOnly refresh cookie
    assert browser.cookies.get("mercato_refresh", path="/api/v1/auth") == staff.refresh_token

    stolen = await browser.post("/api/v1/auth/refresh", headers={"Origin": STOREFRONT})

    assert stolen.status_code == 403
    assert stolen.json()["type"].endswith("/cross-origin-cookie")
    assert "access_token" not in stolen.text
    assert "access-control-allow-credentials" not in stolen.headers
    # Nothing was lost: the dashboard's own page still refreshes with that same cookie.
    own = await browser.post("/api/v1/auth/refresh", headers={"Origin": "http://testserver"})
    assert own.status_code == 200
    assert own.json()["refresh_token"] != staff.refresh_token


async def test_a_listed_dashboard_origin_refreshes_with_the_cookie(browser) -> None:
    await signup_and_login(browser)
    response = await browser.post("/api/v1/auth/refresh", headers={"Origin": DASHBOARD})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == DASHBOARD
    assert response.headers["access-control-allow-credentials"] == "true"


async def test_logout_from_a_storefront_origin_cannot_use_the_cookie(browser) -> None:
    staff = await signup_and_login(browser)
    response = await browser.post(
        "/api/v1/auth/logout", headers={**staff.headers, "Origin": STOREFRONT}
    )
    assert response.status_code == 403


async def test_the_refresh_cookie_is_strict_and_scoped_to_the_auth_routes(browser) -> None:
    staff = await signup_and_login(browser)
    response = await browser.post(
        "/api/v1/auth/login", json={"email": staff.email, "password": staff.password}
    )
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "Path=/api/v1/auth" in cookie
    assert "SameSite=strict" in cookie

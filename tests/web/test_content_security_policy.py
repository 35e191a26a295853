"""Every answer under /app carries the dashboard's Content-Security-Policy (issue 17, #13).

Rendered pages always had it; redirects, JSON, downloads, static files (an SVG can hold a
script) and errors raised before a page renders did not. The Chromium tests in
tests/web/e2e prove the pages, htmx and the charts still work under it.
"""

from __future__ import annotations

from tests.factories import create_tenant, signup_and_login
from tests.web.browser import signed_in

POLICY_START = "default-src 'self'; script-src 'self'; style-src 'self'"


def _policy(response) -> str:
    return str(response.headers.get("content-security-policy", ""))


async def test_answers_that_are_not_rendered_pages_carry_the_policy(client) -> None:
    signed_out = await client.get("/app")
    assert signed_out.status_code == 303
    htmx_signed_out = await client.get("/app/t/whatever", headers={"HX-Request": "true"})
    assert htmx_signed_out.status_code == 401
    favicon = await client.get("/app/static/favicon.svg")
    assert favicon.status_code == 200
    missing = await client.get("/app/static/nothing-here.js")
    assert missing.status_code == 404
    status = await client.get("/app/session", headers={"Accept": "application/json"})
    assert status.status_code == 200
    for response in (signed_out, htmx_signed_out, favicon, missing, status):
        assert _policy(response).startswith(POLICY_START), response.url


async def test_downloads_and_pages_of_a_tenant_carry_it(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    dashboard = await signed_in(client, owner)
    page = await dashboard.get(f"/app/t/{tenant}")
    download = await dashboard.get(f"/app/t/{tenant}/tasks/export.csv")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    for response in (page, download):
        policy = _policy(response)
        assert policy.startswith(POLICY_START)
        assert "frame-ancestors 'none'" in policy
        assert "object-src 'none'" in policy
        assert "'unsafe-inline'" not in policy


async def test_forms_may_lead_only_here_and_to_googles_consent_page(client) -> None:
    page = await client.get("/app/login")
    assert "form-action 'self' https://accounts.google.com;" in _policy(page)


async def test_the_api_is_left_to_its_own_headers(client) -> None:
    health = await client.get("/health")
    assert "content-security-policy" not in health.headers

"""A browser-like client for the dashboard over the ASGI transport: cookies, CSRF, forms."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.factories import Staff
from tests.mailbox import mailed_token

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def csrf_in(html: str) -> str:
    match = CSRF_META.search(html)
    assert match, "the page carries no CSRF token"
    return match.group(1)


class Dashboard:
    """Drives `/app` the way a browser does: keeps cookies, sends the page's CSRF token."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.csrf = ""

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        response = await self.client.get(url, **kwargs)
        if "csrf-token" in response.text:
            self.csrf = csrf_in(response.text)
        return response

    async def post(
        self, url: str, data: dict[str, str] | None = None, *, htmx: bool = False
    ) -> httpx.Response:
        if not self.csrf:
            await self.get("/app/login")
        headers = {"HX-Request": "true", "X-CSRF-Token": self.csrf} if htmx else {}
        body = dict(data or {})
        if not htmx:
            body["csrf_token"] = self.csrf
        response = await self.client.post(url, data=body, headers=headers)
        if "csrf-token" in response.text:
            self.csrf = csrf_in(response.text)
        return response

    async def login(self, staff: Staff, password: str | None = None) -> httpx.Response:
        response = await self.post(
            "/app/login",
            {"email": staff.email, "password": password or staff.password, "next": "/app"},
        )
        if response.status_code == 303:
            # The CSRF token is bound to the sign-in session: a browser's next page brings
            # the new session's token.
            await self.get("/app/login")
        return response


async def signed_in(client: httpx.AsyncClient, staff: Staff) -> Dashboard:
    dashboard = Dashboard(client)
    response = await dashboard.login(staff)
    assert response.status_code == 303, response.text
    return dashboard


async def accept_in_dashboard(
    client: httpx.AsyncClient, email: str, fields: dict[str, str]
) -> httpx.Response:
    """Open the invitation link mailed to `email` and accept it with `fields`."""
    visitor = Dashboard(client)
    token = mailed_token(email, "member_invited")
    page = await visitor.get(f"/app/accept-invitation?token={token}")
    assert page.status_code == 200, page.text
    accepted = await visitor.post("/app/accept-invitation", {"token": token, **fields})
    assert accepted.status_code == 200, accepted.text
    assert "You are now a member" in accepted.text
    return accepted

"""The dashboard is no way around the API's limits (issue 17, finding 7).

Tenant pages spend the same per-user tenant budget as API calls, and the password a
sensitive form asks for (step-up) is throttled like a login.
"""

from __future__ import annotations

import pytest

from mercato.kernel.ratelimit import Limit
from mercato.modules.identity import limits
from tests.factories import PASSWORD, create_tenant, signup_and_login, unique_email
from tests.web.browser import signed_in
from tests.web.test_screens import make_stale


@pytest.fixture
def budgets(monkeypatch):
    def tighten(**groups: str) -> None:
        chosen = {g: Limit.parse("1000000/minute") for g in limits.DEFAULT_LIMITS}
        chosen.update({group: Limit.parse(spec) for group, spec in groups.items()})
        monkeypatch.setattr(limits, "_limits", lambda: chosen)

    return tighten


async def test_tenant_pages_spend_the_users_tenant_budget(client, budgets) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    dashboard = await signed_in(client, owner)
    budgets(default="3/minute")
    pages = [await dashboard.get(f"/app/t/{tenant}/settings/members") for _ in range(4)]
    assert [p.status_code for p in pages] == [200, 200, 200, 429]
    assert "Something is wrong" not in pages[-1].text
    # The API draws on the same budget: the dashboard did not get a budget of its own.
    api = await client.get(f"/api/v1/tenants/{tenant}", headers=owner.headers)
    assert api.status_code == 429


async def test_a_dashboard_write_spends_the_tenants_write_budget(client, budgets) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    dashboard = await signed_in(client, owner)
    url = f"/app/t/{tenant}/settings/members"
    await dashboard.get(url)
    budgets(tenant_writes="2/minute")
    answers = [
        await dashboard.post(url, {"email": unique_email("w"), "role": "viewer"}, htmx=True)
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]


async def test_the_step_up_password_is_throttled_like_a_login(client, budgets) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    dashboard = await signed_in(client, owner)
    await make_stale(client, owner)
    url = f"/app/t/{tenant}/settings/members"
    await dashboard.get(url)
    budgets(login="5/minute")
    email = unique_email("invitee")
    wrong = [
        await dashboard.post(
            url,
            {"email": email, "role": "viewer", "current_password": "not-my-password"},
            htmx=True,
        )
        for _ in range(5)
    ]
    assert all("That password is not right" in w.text for w in wrong)
    blocked = await dashboard.post(
        url, {"email": email, "role": "viewer", "current_password": PASSWORD}, htmx=True
    )
    assert "That password is not right" not in blocked.text
    assert "Rate limit of 5 requests per 60s exceeded" in blocked.text
    assert "invited as" not in blocked.text
    assert "mercato_access=" not in blocked.headers.get("set-cookie", "")
    members = await client.get(f"/api/v1/tenants/{tenant}/members", headers=owner.headers)
    assert email not in members.text


async def test_the_api_step_up_is_throttled_too(client, budgets) -> None:
    owner = await signup_and_login(client)
    budgets(login="3/minute")
    statuses = [
        (
            await client.post(
                "/api/v1/auth/step-up", json={"password": "wrong-password-x"}, headers=owner.headers
            )
        ).status_code
        for _ in range(3)
    ]
    right = await client.post(
        "/api/v1/auth/step-up", json={"password": PASSWORD}, headers=owner.headers
    )
    assert statuses == [401, 401, 401]
    assert right.status_code == 429
    assert "access_token" not in right.text

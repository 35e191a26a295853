"""Settings → Integrations: forms from each kind's settings, step-up for secrets, test
connection, and who may see the page."""

from __future__ import annotations

import socket

from tests.factories import add_member, create_tenant, signup_and_login
from tests.web.browser import signed_in
from tests.web.test_screens import make_stale


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TestIntegrations:
    async def test_set_up_smtp_with_step_up_and_test_the_connection(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        dashboard = await signed_in(client, owner)
        url = f"/app/t/{tenant}/settings/integrations"
        page = await dashboard.get(url)
        assert page.status_code == 200
        for title in ("SFTP", "SMTP", "BigQuery", "Stripe"):
            assert f'>{title} <span class="badge status-pending">not set up' in page.text
        assert 'id="smtp-f-from_address"' in page.text
        assert 'value="587"' in page.text  # the model's default port

        port = _closed_port()
        form = {
            "host": "127.0.0.1",
            "port": str(port),
            "username": "mailer",
            "password": "s3cret-password",
            "security": "none",
            "from_address": "shop@example.com",
        }
        saved = await dashboard.post(f"{url}/smtp", form, htmx=True)
        assert saved.status_code == 200, saved.text
        assert "SMTP is set up." in saved.text
        api = await client.get(f"/api/v1/tenants/{tenant}/integrations/smtp", headers=owner.headers)
        assert api.json()["settings"]["password"] == {"set": True}
        assert "s3cret-password" not in saved.text

        kept = await dashboard.post(f"{url}/smtp", {**form, "password": ""}, htmx=True)
        assert "SMTP is saved." in kept.text
        assert "Stored; leave empty to keep it." in kept.text

        # A new secret needs a recent login: the form asks for the password, then saves.
        await make_stale(client, owner)
        asked = await dashboard.post(f"{url}/smtp", {**form, "password": "new-secret"}, htmx=True)
        assert asked.status_code == 200
        assert 'id="smtp-f-current_password"' in asked.text
        confirmed = await dashboard.post(
            f"{url}/smtp",
            {**form, "password": "new-secret", "current_password": owner.password},
            htmx=True,
        )
        assert "SMTP is saved." in confirmed.text

        checked = await dashboard.post(f"{url}/smtp/test", htmx=True)
        assert checked.status_code == 200
        assert 'data-check-result="failed"' in checked.text
        assert "Connection failed." in checked.text

    async def test_problems_are_shown_by_their_fields(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        dashboard = await signed_in(client, owner)
        url = f"/app/t/{tenant}/settings/integrations"
        await dashboard.get(url)
        refused = await dashboard.post(
            f"{url}/smtp",
            {"host": "bad host!", "port": "99999", "from_address": "x@y.z"},
            htmx=True,
        )
        assert refused.status_code == 422, refused.text
        assert 'id="smtp-f-host-error"' in refused.text
        assert 'id="smtp-f-port-error"' in refused.text
        assert (await dashboard.post(f"{url}/sftp/test", htmx=True)).status_code == 404

    async def test_only_admins_see_integrations(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        manager = await add_member(client, owner, tenant, "manager")
        dashboard = await signed_in(client, manager)
        home = await dashboard.get(f"/app/t/{tenant}")
        assert "settings/integrations" not in home.text
        page = await dashboard.get(f"/app/t/{tenant}/settings/integrations")
        assert page.status_code == 403
        refused = await dashboard.post(
            f"/app/t/{tenant}/settings/integrations/smtp", {"host": "h", "from_address": "a@b.c"}
        )
        assert refused.status_code == 403

"""POST {T}/integrations/{kind}/test against real local servers: success or the exact failure."""

from __future__ import annotations

from contextlib import contextmanager

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.fakes.server import free_port, serve
from tests.modules.integrations.fakes import (
    GOOD_STRIPE_KEY,
    FakeGoogle,
    patched_settings,
    service_account_json,
    stripe_app,
)
from tests.modules.masterdata.sftp_server import sftp_server
from tests.modules.tracking.helpers import new_shop


async def _configure_and_test(client, shop, kind: str, settings: dict) -> dict:
    put = await client.put(
        f"{shop.base}/integrations/{kind}", json=settings, headers=shop.owner.headers
    )
    assert put.status_code in (200, 201), put.text
    response = await client.post(
        f"{shop.base}/integrations/{kind}/test", headers=shop.owner.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_sftp_login_and_files(client, tmp_path) -> None:
    shop = await new_shop(client)
    (tmp_path / "users.csv").write_text("id,name,email,location_codes\n")
    (tmp_path / "locations.csv").write_text("code,name\n")
    async with sftp_server(tmp_path) as server:
        good = await _configure_and_test(client, shop, "sftp", server.config())
        assert good["ok"] is True, good
        assert "found both files" in good["message"]
        wrong = await _configure_and_test(client, shop, "sftp", server.config(password="nope-nope"))
        assert wrong["ok"] is False
        assert wrong["message"].startswith("SFTP login refused")
        missing = await _configure_and_test(
            client, shop, "sftp", server.config(users_path="exports/reps.csv")
        )
        assert missing["message"] == "logged in, but these files are missing: exports/reps.csv"
        other_key = (
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHtAxkrIeZ3eFj0gWXYE0hx1R3ffUX3A3J0q0T0bR3xW"
        )
        spoofed = await _configure_and_test(client, shop, "sftp", server.config(host_key=other_key))
        assert spoofed["ok"] is False
        assert "host key" in spoofed["message"].lower()
    down = await _configure_and_test(client, shop, "sftp", server.config(port=free_port()))
    assert (down["ok"], down["message"]) == (False, "could not connect to the SFTP server")


class _Accounts:
    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"mailer",
            b"smtp-secret-1",
        )
        return AuthResult(success=ok, handled=False)


class _Sink:
    async def handle_DATA(self, server, session, envelope) -> str:
        return "250 OK"


@contextmanager
def _smtp():
    port = free_port()
    controller = Controller(
        _Sink(), hostname="127.0.0.1", port=port, authenticator=_Accounts(), auth_require_tls=False
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


async def test_smtp_ehlo_and_login(client) -> None:
    shop = await new_shop(client)
    with _smtp() as port:
        base = {
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "from_address": "shop@shop.example",
            "username": "mailer",
        }
        good = await _configure_and_test(client, shop, "smtp", base | {"password": "smtp-secret-1"})
        assert good == good | {
            "ok": True,
            "message": f"EHLO accepted by 127.0.0.1:{port} and logged in",
        }
        bad = await _configure_and_test(client, shop, "smtp", base | {"password": "wrong"})
        assert bad["ok"] is False
        assert bad["message"] == "SMTP login refused: check the username and password"


async def test_stripe_key_check(client) -> None:
    shop = await new_shop(client)
    async with serve(stripe_app()) as url:
        with patched_settings(stripe_api_base=url):
            good = await _configure_and_test(
                client, shop, "stripe", {"secret_key": GOOD_STRIPE_KEY}
            )
            bad = await _configure_and_test(
                client, shop, "stripe", {"secret_key": "sk_test_" + "b2" * 12}
            )
    assert (good["ok"], good["message"]) == (True, "Stripe accepted the test key")
    assert bad["ok"] is False
    assert bad["message"] == "Stripe refused the key (HTTP 401)"  # not Stripe's own words


async def test_google_refresh_token_check(client) -> None:
    shop = await new_shop(client)
    google = FakeGoogle()
    async with serve(google.app()) as url:
        with patched_settings(google_token_url=f"{url}/token"):
            base = {"client_id": "cid.apps.googleusercontent.com", "client_secret": "google-secret"}
            good = await _configure_and_test(
                client, shop, "google", base | {"refresh_token": google.refresh_token}
            )
            bad = await _configure_and_test(
                client, shop, "google", base | {"refresh_token": "revoked"}
            )
    assert good["ok"] is True
    assert bad["message"] == "Google refused the credentials (HTTP 400)"


async def test_bigquery_authenticates_and_reads_the_dataset(client) -> None:
    shop = await new_shop(client)
    google = FakeGoogle()
    async with serve(google.app()) as url:
        with patched_settings(bigquery_api_endpoint=url, google_token_url=f"{url}/token"):
            settings = {
                "project_id": "shop-analytics",
                "dataset": google.dataset,
                "credentials_json": service_account_json(f"{url}/token"),
            }
            good = await _configure_and_test(client, shop, "bigquery", settings)
            missing = await _configure_and_test(
                client, shop, "bigquery", settings | {"dataset": "analytics_999"}
            )
    assert good == good | {
        "ok": True,
        "message": "authenticated and read dataset shop-analytics:analytics_123",
    }
    assert missing["ok"] is False
    assert missing["message"] == (
        "BigQuery: dataset shop-analytics.analytics_999 not found "
        "(or the service account cannot see it)"
    )


async def test_testing_an_unconfigured_integration_is_404(client) -> None:
    shop = await new_shop(client)
    response = await client.post(
        f"{shop.base}/integrations/stripe/test", headers=shop.owner.headers
    )
    assert response.status_code == 404

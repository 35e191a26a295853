""" "Test connection" for each integration kind: succeed, or say exactly what failed.

Each check does what the real work will do first — log in over SFTP and look for the
files, EHLO and log in over SMTP, authenticate to BigQuery and read the dataset, ask
Stripe for the balance, refresh the Google token — under a time limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiosmtplib
import httpx

from mercato.kernel.extras import needs_extra
from mercato.modules.integrations.bigquery import bigquery_client
from mercato.modules.integrations.schemas import ConnectionCheck
from mercato.modules.integrations.sftp import open_sftp
from mercato.settings import get_settings

CHECK_TIMEOUT_S = 20


class CheckFailed(Exception):
    """The check reached a verdict: this message says what failed."""


async def check_sftp(config: dict[str, Any]) -> str:
    with needs_extra("sftp", "SFTP"):
        import asyncssh

    try:
        async with open_sftp(config) as sftp:
            missing = [
                path
                for path in (config["users_path"], config["locations_path"])
                if not await sftp.exists(path)
            ]
    except asyncssh.PermissionDenied as exc:
        raise CheckFailed(f"SFTP login refused for {config['username']!r}: {exc.reason}") from exc
    except asyncssh.HostKeyNotVerifiable as exc:
        raise CheckFailed(f"SFTP host key does not match the pinned key: {exc.reason}") from exc
    except asyncssh.Error as exc:
        raise CheckFailed(f"SFTP error: {exc.reason}") from exc
    except OSError as exc:
        raise CheckFailed(f"cannot reach {config['host']}:{config['port']}: {exc}") from exc
    if missing:
        raise CheckFailed(f"logged in, but these files are missing: {', '.join(missing)}")
    pinned = "" if config.get("host_key") else " (host key not pinned: set `host_key`)"
    return f"logged in to {config['host']}:{config['port']} and found both files{pinned}"


async def check_smtp(config: dict[str, Any]) -> str:
    security = config.get("security", "starttls")
    client = aiosmtplib.SMTP(
        hostname=config["host"],
        port=int(config["port"]),
        use_tls=security == "tls",
        start_tls=security == "starttls",
        timeout=CHECK_TIMEOUT_S,
    )
    try:
        await client.connect()
        await client.ehlo()
        if config.get("username"):
            await client.login(config["username"], config.get("password") or "")
        await client.quit()
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise CheckFailed(f"SMTP login refused: {exc.code} {exc.message}") from exc
    except aiosmtplib.SMTPException as exc:
        raise CheckFailed(f"SMTP error: {exc}") from exc
    except OSError as exc:
        raise CheckFailed(f"cannot reach {config['host']}:{config['port']}: {exc}") from exc
    return f"EHLO accepted by {config['host']}:{config['port']}" + (
        " and logged in" if config.get("username") else ""
    )


async def check_bigquery(config: dict[str, Any]) -> str:
    from google.api_core import exceptions as google_errors
    from google.auth import exceptions as auth_errors

    def read_dataset() -> str:
        client = bigquery_client(config)
        try:
            dataset = client.get_dataset(f"{config['project_id']}.{config['dataset']}")
            return f"authenticated and read dataset {dataset.full_dataset_id}"
        finally:
            client.close()  # type: ignore[no-untyped-call]

    try:
        return await asyncio.to_thread(read_dataset)
    except auth_errors.GoogleAuthError as exc:
        raise CheckFailed(f"BigQuery authentication failed: {exc}") from exc
    except google_errors.GoogleAPIError as exc:
        raise CheckFailed(f"BigQuery refused: {exc}") from exc


async def check_stripe(config: dict[str, Any]) -> str:
    base = get_settings().stripe_api_base.rstrip("/")
    async with httpx.AsyncClient(timeout=CHECK_TIMEOUT_S) as http:
        try:
            response = await http.get(f"{base}/v1/balance", auth=(config["secret_key"], ""))
        except httpx.HTTPError as exc:
            raise CheckFailed(f"cannot reach Stripe: {exc}") from exc
    if response.status_code != 200:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        raise CheckFailed(f"Stripe refused the key ({response.status_code}): {message}")
    mode = "live" if response.json().get("livemode") else "test"
    return f"Stripe accepted the {mode} key"


async def check_google(config: dict[str, Any]) -> str:
    if not config.get("refresh_token"):
        raise CheckFailed("no refresh token yet: connect the Google account first")
    async with httpx.AsyncClient(timeout=CHECK_TIMEOUT_S) as http:
        try:
            response = await http.post(
                get_settings().google_token_url,
                data={
                    "grant_type": "refresh_token",
                    "client_id": config["client_id"],
                    "client_secret": config["client_secret"],
                    "refresh_token": config["refresh_token"],
                },
            )
        except httpx.HTTPError as exc:
            raise CheckFailed(f"cannot reach Google: {exc}") from exc
    body = (
        response.json()
        if response.headers.get("content-type", "").startswith("application/json")
        else {}
    )
    if response.status_code != 200 or "access_token" not in body:
        reason = body.get("error_description") or body.get("error") or response.text[:200]
        raise CheckFailed(f"Google refused the credentials ({response.status_code}): {reason}")
    return "Google issued an access token"


CHECKS: dict[str, Callable[[dict[str, Any]], Awaitable[str]]] = {
    "sftp": check_sftp,
    "smtp": check_smtp,
    "bigquery": check_bigquery,
    "stripe": check_stripe,
    "google": check_google,
}


async def run_check(kind: str, config: dict[str, Any]) -> ConnectionCheck:
    """Run the kind's check; any failure becomes `ok: false` with its reason."""
    try:
        message = await asyncio.wait_for(CHECKS[kind](config), CHECK_TIMEOUT_S)
        ok = True
    except CheckFailed as exc:
        message, ok = str(exc), False
    except TimeoutError:
        message, ok = f"no answer within {CHECK_TIMEOUT_S} s", False
    return ConnectionCheck(kind=kind, ok=ok, message=message, checked_at=datetime.now(UTC))

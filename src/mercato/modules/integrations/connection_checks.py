""" "Test connection" for each integration kind: succeed, or say in our words what failed.

Each check does what the real work will do first — log in over SFTP and look for the
files, EHLO and log in over SMTP, authenticate to BigQuery and read the dataset, ask
Stripe for the balance, refresh the Google token — under a time limit, through egress.
A failure message never quotes the remote server, and a closed port, a dropped one and a
refused (internal) address all read "could not connect": the check is no port scanner.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiosmtplib
import httpx

from mercato.kernel import egress
from mercato.kernel.hostnames import host_with_port
from mercato.kernel.logging import get_logger
from mercato.modules.integrations.bigquery import (
    BigQueryFailed,
    bigquery_client,
    bigquery_credentials,
    bigquery_errors,
)
from mercato.modules.integrations.schemas import ConnectionCheck
from mercato.modules.integrations.sftp import SftpFailed, open_sftp
from mercato.settings import get_settings

CHECK_TIMEOUT_S = 20
CONNECT_TIMEOUT_S = 10

log = get_logger("mercato.integrations.checks")


class CheckFailed(Exception):
    """The check reached a verdict: this message says what failed."""


async def check_sftp(config: dict[str, Any]) -> str:
    try:
        async with open_sftp(config) as sftp:
            missing = [
                path
                for path in (config["users_path"], config["locations_path"])
                if not await sftp.exists(path)
            ]
    except SftpFailed as exc:
        raise CheckFailed(str(exc)) from exc
    if missing:
        raise CheckFailed(f"logged in, but these files are missing: {', '.join(missing)}")
    pinned = "" if config.get("host_key") else " (host key not pinned: set `host_key`)"
    return f"logged in to {config['host']}:{config['port']} and found both files{pinned}"


async def check_smtp(config: dict[str, Any]) -> str:
    host, port = str(config["host"]), int(config["port"])
    where = host_with_port(host, port)
    security = config.get("security", "starttls")
    unreachable = f"{egress.COULD_NOT_CONNECT} to the SMTP server"
    try:
        sock = await egress.open_socket(host, port, timeout_s=CONNECT_TIMEOUT_S)
    except egress.CannotConnect as exc:
        raise CheckFailed(unreachable) from exc
    client = aiosmtplib.SMTP(
        hostname=host,
        sock=sock,
        use_tls=security == "tls",
        start_tls=security == "starttls",
        timeout=CONNECT_TIMEOUT_S,
    )
    try:
        await _smtp_session(client, config, unreachable, where)
    finally:
        client.close()  # the connection first, then the socket it ran on
        sock.close()
    return f"EHLO accepted by {where}" + (" and logged in" if config.get("username") else "")


async def _smtp_session(
    client: aiosmtplib.SMTP, config: dict[str, Any], unreachable: str, where: str
) -> None:
    try:  # a port that accepts but never greets reads the same as a closed one
        await client.connect()
    except (aiosmtplib.SMTPException, OSError) as exc:
        log.info("smtp_check_failed", where=where, error=repr(exc))
        raise CheckFailed(unreachable) from exc
    try:
        await client.ehlo()
        if config.get("username"):
            await client.login(config["username"], config.get("password") or "")
        await client.quit()
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise CheckFailed("SMTP login refused: check the username and password") from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        log.info("smtp_check_failed", where=where, error=repr(exc))
        raise CheckFailed(f"the SMTP server at {where} refused the session") from exc


async def check_bigquery(config: dict[str, Any]) -> str:
    def read_dataset() -> str:
        client = bigquery_client(config, credentials)
        try:
            dataset = client.get_dataset(f"{config['project_id']}.{config['dataset']}")
            return f"authenticated and read dataset {dataset.full_dataset_id}"
        finally:
            client.close()  # type: ignore[no-untyped-call]

    try:
        credentials = await bigquery_credentials(config)
        with bigquery_errors(config):
            return await asyncio.to_thread(read_dataset)
    except BigQueryFailed as exc:
        raise CheckFailed(str(exc)) from exc


def _refused(service: str, what: str, response: httpx.Response) -> CheckFailed:
    log.info("integration_check_refused", service=service, status=response.status_code)
    return CheckFailed(f"{service} refused {what} (HTTP {response.status_code})")


async def check_stripe(config: dict[str, Any]) -> str:
    base = get_settings().stripe_api_base.rstrip("/")
    try:
        async with egress.http_client(timeout_s=CHECK_TIMEOUT_S) as http:
            response = await http.get(f"{base}/v1/balance", auth=(config["secret_key"], ""))
            livemode = response.json().get("livemode") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError) as exc:
        raise CheckFailed(f"Stripe: {egress.public_message(exc)}") from exc
    if response.status_code != 200:
        raise _refused("Stripe", "the key", response)
    return f"Stripe accepted the {'live' if livemode else 'test'} key"


async def check_google(config: dict[str, Any]) -> str:
    if not config.get("refresh_token"):
        raise CheckFailed("no refresh token yet: connect the Google account first")
    try:
        async with egress.http_client(timeout_s=CHECK_TIMEOUT_S) as http:
            response = await http.post(
                get_settings().google_token_url,
                data={
                    "grant_type": "refresh_token",
                    "client_id": config["client_id"],
                    "client_secret": config["client_secret"],
                    "refresh_token": config["refresh_token"],
                },
            )
            issued = response.status_code == 200 and "access_token" in response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise CheckFailed(f"Google: {egress.public_message(exc)}") from exc
    if not issued:
        raise _refused("Google", "the credentials", response)
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

"""A BigQuery client from a tenant's `bigquery` integration (service account credentials).

The access token is minted here, through egress, and not by google-auth: a key file names
its own `token_uri`, and google-auth would POST to whatever it says and put the answer's
body in its error message — a tenant could aim it at our internal network and read the
reply. The key file's `token_uri` must be Google's (checked when the integration is
saved) and is not used anyway: the token comes from `MERCATO_GOOGLE_TOKEN_URL`.

`MERCATO_BIGQUERY_API_ENDPOINT` points the client elsewhere than Google (tests use a local
fake). That endpoint is the operator's, not a tenant's; egress checks its address before a
client is built, and Google's client library then talks to it over its own HTTP stack.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import jwt

from mercato.kernel import egress
from mercato.kernel.extras import needs_extra
from mercato.kernel.logging import get_logger
from mercato.settings import get_settings

if TYPE_CHECKING:
    from google.cloud import bigquery
    from google.oauth2.credentials import Credentials

SCOPES = ["https://www.googleapis.com/auth/bigquery.readonly"]
GOOGLE_TOKEN_URIS = frozenset(
    {
        "https://oauth2.googleapis.com/token",
        "https://accounts.google.com/o/oauth2/token",
        "https://www.googleapis.com/oauth2/v4/token",
    }
)
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME_S = 3600
TOKEN_TIMEOUT_S = 15.0

log = get_logger("mercato.integrations.bigquery")


class BigQueryFailed(Exception):
    """BigQuery could not be used; the message is ours and safe to show the tenant."""


def accepted_token_uris() -> frozenset[str]:
    """Where a key file's `token_uri` may point: Google's endpoints, or the operator's."""
    return GOOGLE_TOKEN_URIS | {get_settings().google_token_url}


async def service_account_token(config: dict[str, Any]) -> str:
    """An access token for the key file in `config`, from the JWT-bearer grant (RFC 7523)."""
    info = json.loads(config["credentials_json"])
    token_url = get_settings().google_token_url
    now = int(time.time())
    assertion = jwt.encode(
        {
            "iss": info["client_email"],
            "scope": " ".join(SCOPES),
            "aud": token_url,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_S,
        },
        info["private_key"],
        algorithm="RS256",
        headers={"kid": info["private_key_id"]} if info.get("private_key_id") else None,
    )
    try:
        async with egress.http_client(timeout_s=TOKEN_TIMEOUT_S) as http:
            response = await http.post(
                token_url, data={"grant_type": JWT_BEARER, "assertion": assertion}
            )
    except httpx.HTTPError as exc:
        log.info("bigquery_token_failed", error=repr(exc))
        raise BigQueryFailed(
            f"BigQuery authentication failed: {egress.public_message(exc)}"
        ) from None
    try:
        token = response.json().get("access_token") if response.status_code == 200 else None
    except ValueError:
        token = None
    if not isinstance(token, str) or not token:
        log.info("bigquery_token_refused", status=response.status_code)
        raise BigQueryFailed(
            f"BigQuery authentication failed: Google refused the service account key "
            f"(HTTP {response.status_code})"
        )
    return token


async def check_api_endpoint() -> None:
    """Refuse an API endpoint on an internal address the operator did not allow."""
    endpoint = get_settings().bigquery_api_endpoint
    if not endpoint:
        return
    url = urlsplit(endpoint)
    try:
        await egress.resolve_target(url.hostname or "", url.port or _default_port(url.scheme))
    except egress.CannotConnect as exc:
        raise BigQueryFailed(f"BigQuery: {egress.COULD_NOT_CONNECT}") from exc


def _default_port(scheme: str) -> int:
    return 80 if scheme == "http" else 443


async def bigquery_credentials(config: dict[str, Any]) -> Credentials:
    """Credentials for `bigquery_client`, minted through egress (see the module docstring).

    Raises `BigQueryFailed` when the endpoint is refused or Google refuses the key.
    """
    with needs_extra("bigquery", "BigQuery"):
        from google.oauth2.credentials import Credentials

    await check_api_endpoint()
    token = await service_account_token(config)
    return Credentials(token=token)  # type: ignore[no-untyped-call]


def bigquery_client(config: dict[str, Any], credentials: Credentials) -> bigquery.Client:
    """A synchronous client (run its calls in a thread); Google's libraries load on first use."""
    with needs_extra("bigquery", "BigQuery"):
        from google.api_core.client_options import ClientOptions
        from google.cloud import bigquery

    endpoint = get_settings().bigquery_api_endpoint
    return bigquery.Client(
        project=config["project_id"],
        credentials=credentials,
        location=config.get("location"),
        client_options=ClientOptions(api_endpoint=endpoint) if endpoint else None,
    )


@contextmanager
def bigquery_errors(config: dict[str, Any]) -> Iterator[None]:
    """Turn Google's client errors (which quote the server's answer) into `BigQueryFailed`."""
    with needs_extra("bigquery", "BigQuery"):
        import requests
        from google.api_core import exceptions as google_errors
        from google.auth import exceptions as auth_errors

    try:
        yield
    except auth_errors.GoogleAuthError as exc:
        log.info("bigquery_auth_failed", error=repr(exc))
        raise BigQueryFailed(
            "BigQuery authentication failed: the access token was refused"
        ) from None
    except google_errors.GoogleAPICallError as exc:
        log.info("bigquery_refused", status=exc.code, error=repr(exc))
        raise BigQueryFailed(_refusal(exc.code, config)) from None
    except google_errors.GoogleAPIError as exc:
        log.info("bigquery_failed", error=repr(exc))
        raise BigQueryFailed("BigQuery did not answer as expected") from None
    except requests.RequestException as exc:
        log.info("bigquery_unreachable", error=repr(exc))
        raise BigQueryFailed(f"BigQuery: {egress.COULD_NOT_CONNECT}") from None


def _refusal(status: int | None, config: dict[str, Any]) -> str:
    dataset = f"{config['project_id']}.{config['dataset']}"
    if status == 404:
        return f"BigQuery: dataset {dataset} not found (or the service account cannot see it)"
    if status in (401, 403):
        return f"BigQuery refused the service account access to {dataset} (HTTP {status})"
    return f"BigQuery refused the request (HTTP {status})"

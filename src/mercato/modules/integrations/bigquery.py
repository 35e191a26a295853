"""A BigQuery client from a tenant's `bigquery` integration (service account credentials).

`MERCATO_BIGQUERY_API_ENDPOINT` points the client elsewhere than Google (tests use a
local fake); the token endpoint comes from the key file's `token_uri`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mercato.kernel.extras import needs_extra
from mercato.settings import get_settings

if TYPE_CHECKING:
    from google.cloud import bigquery

SCOPES = ["https://www.googleapis.com/auth/bigquery.readonly"]


def bigquery_client(config: dict[str, Any]) -> bigquery.Client:
    """A synchronous client (run its calls in a thread); Google's libraries load on first use."""
    with needs_extra("bigquery", "BigQuery"):
        from google.api_core.client_options import ClientOptions
        from google.cloud import bigquery
        from google.oauth2 import service_account

    info = json.loads(config["credentials_json"])
    credentials = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)  # type: ignore[no-untyped-call]
    endpoint = get_settings().bigquery_api_endpoint
    return bigquery.Client(
        project=config["project_id"],
        credentials=credentials,
        location=config.get("location"),
        client_options=ClientOptions(api_endpoint=endpoint) if endpoint else None,
    )

"""Local fakes of the HTTP services integrations talk to: Stripe, Google OAuth, BigQuery.

Each checks what the real service checks for the calls Mercato makes (credentials,
paths, parameters) and answers in the real service's shape.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

GOOD_STRIPE_KEY = "sk_test_" + "a1" * 12


async def stripe_balance(request: Request) -> JSONResponse:
    auth = request.headers.get("authorization", "")
    key = base64.b64decode(auth.removeprefix("Basic ")).decode().split(":")[0] if auth else ""
    if key != GOOD_STRIPE_KEY:
        return JSONResponse(
            {
                "error": {
                    "type": "invalid_request_error",
                    "message": f"Invalid API Key provided: {key[:8]}****",
                }
            },
            status_code=401,
        )
    return JSONResponse({"object": "balance", "livemode": False, "available": []})


def stripe_app() -> Starlette:
    return Starlette(routes=[Route("/v1/balance", stripe_balance)])


@dataclass
class FakeGoogle:
    """The OAuth token endpoint (refresh tokens and service-account JWTs) and BigQuery."""

    refresh_token: str = "good-refresh-token"
    dataset: str = "analytics_123"
    rows: list[dict[str, Any]] = field(default_factory=list)
    queries: list[dict[str, Any]] = field(default_factory=list)
    table_lookups: list[str] = field(default_factory=list)
    access_token: str = "fake-access-token"

    async def token(self, request: Request) -> JSONResponse:
        form = dict(await request.form())
        if (
            form.get("grant_type") == "refresh_token"
            and form.get("refresh_token") != self.refresh_token
        ):
            return JSONResponse(
                {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                },
                status_code=400,
            )
        return JSONResponse(
            {"access_token": self.access_token, "expires_in": 3600, "token_type": "Bearer"}
        )

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.access_token}"

    async def dataset_get(self, request: Request) -> JSONResponse:
        project, dataset = request.path_params["project"], request.path_params["dataset"]
        if not self._authorized(request):
            return _google_error(
                401, "UNAUTHENTICATED", "Request had invalid authentication credentials."
            )
        if dataset != self.dataset:
            return _google_error(404, "NOT_FOUND", f"Not found: Dataset {project}:{dataset}")
        return JSONResponse(
            {
                "kind": "bigquery#dataset",
                "id": f"{project}:{dataset}",
                "datasetReference": {"projectId": project, "datasetId": dataset},
            }
        )

    async def table_get(self, request: Request) -> JSONResponse:
        """`tables.get`: a GA4 export table exists for each day the export holds rows of."""
        project, dataset = request.path_params["project"], request.path_params["dataset"]
        table = request.path_params["table"]
        if not self._authorized(request):
            return _google_error(
                401, "UNAUTHENTICATED", "Request had invalid authentication credentials."
            )
        self.table_lookups.append(table)
        days = {f"events_{row['event_date']}" for row in self.rows}
        if dataset != self.dataset or table not in days:
            return _google_error(404, "NOT_FOUND", f"Not found: Table {project}:{dataset}.{table}")
        return JSONResponse(
            {
                "kind": "bigquery#table",
                "id": f"{project}:{dataset}.{table}",
                "tableReference": {"projectId": project, "datasetId": dataset, "tableId": table},
                "schema": {"fields": GA4_SCHEMA},
            }
        )

    async def query(self, request: Request) -> JSONResponse:
        if not self._authorized(request):
            return _google_error(
                401, "UNAUTHENTICATED", "Request had invalid authentication credentials."
            )
        body = await request.json()
        self.queries.append(body)
        params = {p["name"]: p["parameterValue"] for p in body["queryParameters"]}
        low, high = params["start_suffix"]["value"], params["end_suffix"]["value"]
        names = {v["value"] for v in params["event_names"]["arrayValues"]}
        assert f"`{request.path_params['project']}.{self.dataset}.events_*`" in body["query"]
        chosen = [
            r for r in self.rows if low <= r["event_date"] <= high and r["event_name"] in names
        ]
        return JSONResponse(
            {
                "kind": "bigquery#queryResponse",
                "jobComplete": True,
                "schema": {"fields": GA4_SCHEMA},
                "rows": [
                    {"f": [_cell(row.get(f["name"]), f) for f in GA4_SCHEMA]} for row in chosen
                ],
                "totalRows": str(len(chosen)),
                "jobReference": {"projectId": request.path_params["project"], "jobId": "job-1"},
            }
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/token", self.token, methods=["POST"]),
                Route("/bigquery/v2/projects/{project}/datasets/{dataset}", self.dataset_get),
                Route("/bigquery/v2/projects/{project}/queries", self.query, methods=["POST"]),
                Route(
                    "/bigquery/v2/projects/{project}/datasets/{dataset}/tables/{table}",
                    self.table_get,
                ),
            ]
        )


def _google_error(status: int, reason: str, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": {
                "code": status,
                "message": message,
                "status": reason,
                "errors": [{"message": message}],
            }
        },
        status_code=status,
    )


def _scalar(name: str, kind: str = "STRING", mode: str = "NULLABLE") -> dict[str, Any]:
    return {"name": name, "type": kind, "mode": mode}


def _record(name: str, fields: list[dict[str, Any]], mode: str = "NULLABLE") -> dict[str, Any]:
    return {"name": name, "type": "RECORD", "mode": mode, "fields": fields}


GA4_SCHEMA = [
    _scalar("event_date"),
    _scalar("event_timestamp", "INTEGER"),
    _scalar("event_name"),
    _record(
        "event_params",
        [
            _scalar("key"),
            _record(
                "value",
                [
                    _scalar("string_value"),
                    _scalar("int_value", "INTEGER"),
                    _scalar("float_value", "FLOAT"),
                    _scalar("double_value", "FLOAT"),
                ],
            ),
        ],
        "REPEATED",
    ),
    _scalar("user_id"),
    _scalar("user_pseudo_id"),
    _record("device", [_scalar("category"), _scalar("operating_system"), _scalar("language")]),
    _record("geo", [_scalar("country"), _scalar("region"), _scalar("city")]),
    _record("traffic_source", [_scalar("name"), _scalar("medium"), _scalar("source")]),
    _record(
        "ecommerce",
        [
            _scalar("transaction_id"),
            _scalar("purchase_revenue", "FLOAT"),
            _scalar("total_item_quantity", "INTEGER"),
            _scalar("unique_items", "INTEGER"),
        ],
    ),
    _record(
        "items",
        [
            _scalar("item_id"),
            _scalar("item_name"),
            _scalar("item_brand"),
            _scalar("item_category"),
            _scalar("item_list_name"),
            _scalar("item_list_index", "INTEGER"),
            _scalar("price", "FLOAT"),
            _scalar("item_revenue", "FLOAT"),
            _scalar("quantity", "INTEGER"),
        ],
        "REPEATED",
    ),
]


def _cell(value: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """BigQuery's f/v encoding of one value, as tabledata and jobs.query return it."""
    if spec["mode"] == "REPEATED":
        inner = {**spec, "mode": "NULLABLE"}
        return {"v": [_cell(item, inner) for item in value or []]}
    if value is None:
        return {"v": None}
    if spec["type"] == "RECORD":
        return {"v": {"f": [_cell(value.get(f["name"]), f) for f in spec["fields"]]}}
    return {"v": str(value)}


def service_account_json(token_uri: str) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "shop-analytics",
            "private_key_id": "k1",
            "private_key": pem,
            "client_email": "mercato@shop-analytics.iam.gserviceaccount.com",
            "client_id": "1",
            "token_uri": token_uri,
        }
    )


@contextmanager
def patched_settings(**values: str) -> Iterator[None]:
    """Run with some MERCATO_* settings changed (settings are cached, so clear around it)."""
    from mercato.settings import get_settings

    previous = {name: os.environ.get(f"MERCATO_{name.upper()}") for name in values}
    os.environ.update({f"MERCATO_{name.upper()}": value for name, value in values.items()})
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(f"MERCATO_{name.upper()}", None)
            else:
                os.environ[f"MERCATO_{name.upper()}"] = value
        get_settings.cache_clear()

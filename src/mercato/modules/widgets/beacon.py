"""Events sent with `navigator.sendBeacon`, which cannot set headers.

When a page is hidden the SDK hands its last events to the browser with `sendBeacon`:
a POST with a `text/plain` body and no custom headers. This ASGI layer accepts
`POST /sdk/v1/events?tenant=<id>&key=<publishable key>` and replays it, unchanged in
substance, as `POST /api/v1/tenants/<id>/events/batch` with the key in `X-API-Key` and a
JSON content type, so authentication, the key's origin allowlist, rate limits,
permissions and ingestion are exactly those of the tracking API.
"""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

BEACON_PATH = "/sdk/v1/events"
REPLACED_HEADERS = {b"content-type", b"x-api-key", b"authorization"}


def _query(scope: Scope) -> tuple[str, str]:
    params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return params.get("tenant", [""])[0], params.get("key", [""])[0]


class BeaconEvents:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == BEACON_PATH and scope["method"] == "POST":
            scope = self.rewrite(scope)
        await self.app(scope, receive, send)

    @staticmethod
    def rewrite(scope: Scope) -> Scope:
        tenant, key = _query(scope)
        try:
            tenant = str(uuid.UUID(tenant))
        except ValueError:
            return scope  # no such route: the router answers 404
        path = f"/api/v1/tenants/{tenant}/events/batch"
        headers = [
            (name, value) for name, value in scope["headers"] if name not in REPLACED_HEADERS
        ]
        headers += [(b"content-type", b"application/json"), (b"x-api-key", key.encode())]
        return {
            **scope,
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": headers,
        }

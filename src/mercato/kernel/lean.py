"""Lean routes: the hottest requests answered before FastAPI's routing and dependencies.

Routing a request through a few hundred routes and solving a dozen dependencies costs
more CPU than serving a recommendation list from Redis. A lean handler gets the raw
request of one method and path pattern and either answers it in full — the common case,
e.g. a list already in the cache, for a caller this process remembers — or returns None,
and the request goes on to the ordinary FastAPI route, unchanged. That route handles
everything else (validation errors, refusals, cache misses, 429s) with the same code as
always, so a lean handler never decides an error and the contract documented in the
OpenAPI schema stays the route's.

A lean handler may leave notes for the route in `scope["state"]` (e.g. a rate-limit
decision already charged) so the fall-through does not repeat work with side effects.
A route that `reads_body` gets the whole request body (read through the body limit
outside this layer); on fall-through the route reads the same body again.
The layer sits inside the gateway middleware: request ids, access logs, metrics, body
limits and security headers apply to lean answers too.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True, slots=True)
class LeanRequest:
    scope: Scope
    tenant_id: uuid.UUID
    headers: dict[str, str]
    query: dict[str, str]
    body: bytes = b""

    @property
    def client_ip(self) -> str:
        client = self.scope.get("client")
        return str(client[0]) if client else "unknown"

    def note(self, key: str, value: object) -> None:
        """Leave something for the route, should the request fall through."""
        self.scope.setdefault("state", {})[key] = value


@dataclass(frozen=True, slots=True)
class LeanResponse:
    body: bytes
    headers: list[tuple[bytes, bytes]]
    status: int = 200
    media_type: bytes = b"application/json"


LeanHandler = Callable[[LeanRequest], Awaitable[LeanResponse | None]]
WANTED_HEADERS = frozenset({b"x-api-key", b"authorization", b"origin", b"content-type"})


@dataclass(frozen=True, slots=True)
class LeanRoute:
    """`path` is the route's template, as metrics and logs name it."""

    method: str
    path: str
    handler: LeanHandler
    reads_body: bool = False

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(
            "^"
            + re.escape(self.path).replace(re.escape("{tenant_id}"), "([0-9a-fA-F-]{32,36})")
            + "$"
        )


class LeanRoutes:
    """ASGI layer in front of the router: lean handlers first, then the app."""

    def __init__(self, app: ASGIApp, *, routes: list[LeanRoute]) -> None:
        self.app = app
        self.routes = [(route, route.pattern) for route in routes]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route, pattern in self.routes:
                if scope["method"] != route.method:
                    continue
                match = pattern.match(scope["path"])
                if match is None:
                    continue
                body: bytes | None = b""
                if route.reads_body:
                    received, body = await _read_body(receive)
                    receive = _replay(received, receive)
                if body is None:  # the client went away while sending
                    break
                response = await self._try(route, match, scope, body)
                if response is not None:
                    scope["route"] = route
                    await _send(send, response)
                    return
                break
        await self.app(scope, receive, send)

    @staticmethod
    async def _try(
        route: LeanRoute, match: re.Match[str], scope: Scope, body: bytes
    ) -> LeanResponse | None:
        try:
            tenant_id = uuid.UUID(match.group(1))
        except ValueError:
            return None
        headers = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in WANTED_HEADERS
        }
        # As Starlette reads a query: blank values kept, the last of repeated names wins.
        query = dict(
            parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        )
        return await route.handler(LeanRequest(scope, tenant_id, headers, query, body))


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The messages received and the whole body (None if the client disconnected)."""
    received: list[Message] = []
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            return received, None
        if not message.get("more_body", False):
            return received, b"".join(m.get("body", b"") for m in received)


def _replay(received: list[Message], receive: Receive) -> Receive:
    """A `receive` that hands out the messages already read, then reads on."""
    pending = list(received)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def _send(send: Send, response: LeanResponse) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [
                (b"content-type", response.media_type),
                (b"content-length", str(len(response.body)).encode()),
                *response.headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": response.body})

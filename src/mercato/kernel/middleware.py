"""The gateway: pure ASGI middleware every request passes through.

`RequestContextMiddleware` is the outermost layer. It accepts a sane incoming
`X-Request-ID` (or makes one), binds it to logs, echoes it on every response, records
metrics and the access log line, and turns any unhandled exception into a 500
problem+json without a stack trace. `BodyLimitMiddleware` answers 413 before a large
body is read into memory. `SecurityHeadersMiddleware` adds the headers every response
carries.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mercato.kernel import error_reports, tracing
from mercato.kernel.context import request_id_var
from mercato.kernel.errors import PROBLEM_CONTENT_TYPE, problem_body
from mercato.kernel.logging import get_logger
from mercato.kernel.metrics import HTTP_LATENCY, HTTP_REQUESTS

REQUEST_ID_HEADER = "x-request-id"
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
UNMATCHED_ROUTE = "<unmatched>"

log = get_logger("mercato.http")


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else UNMATCHED_ROUTE


async def _send_problem(send: Send, status: int, body: dict[str, object], request_id: str) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_CONTENT_TYPE.encode()),
                (b"content-length", str(len(payload)).encode()),
                (REQUEST_ID_HEADER.encode(), request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = incoming if SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder = {"status": 500, "started": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                if tracing.enabled():
                    tracing.describe_request(scope.get("method", ""), _route_template(scope), scope)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            log.exception("unhandled_error", path=scope.get("path"), method=scope.get("method"))
            error_reports.report(
                exc,
                request_id=request_id,
                method=scope.get("method"),
                route=_route_template(scope),
                tenant_id=scope.get("path_params", {}).get("tenant_id"),
            )
            status_holder["status"] = 500
            if not status_holder["started"]:
                body = problem_body(
                    status=500,
                    slug="internal-error",
                    title="Internal server error",
                    detail="Something went wrong on our side; the request id identifies it.",
                    instance=scope.get("path", ""),
                )
                await _send_problem(send, 500, body, request_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope.get("method", "")
            status = int(status_holder["status"])
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_LATENCY.labels(method, route).observe(elapsed)
            log.info(
                "request",
                method=method,
                path=scope.get("path"),
                route=route,
                status=status,
                latency_ms=round(elapsed * 1000, 2),
                client=(scope.get("client") or ("", 0))[0],
            )
            request_id_var.reset(token)


class BodyLimitMiddleware:
    """413 for bodies over the limit, checked on Content-Length and while streaming."""

    def __init__(self, app: ASGIApp, *, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = Headers(scope=scope).get("content-length")
        request_id = str(scope.get("state", {}).get("request_id", ""))
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_problem(send, 413, self._problem(scope, limit), request_id)
            return

        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException, so FastAPI's body parsing re-raises it as it is.
                    raise HTTPException(413, detail=f"This endpoint accepts at most {limit} bytes")
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except HTTPException as exc:
            if exc.status_code != 413 or response_started:
                raise
            await _send_problem(send, 413, self._problem(scope, limit), request_id)

    @staticmethod
    def _problem(scope: Scope, limit: int) -> dict[str, object]:
        return problem_body(
            status=413,
            slug="payload-too-large",
            title="The request body is too large",
            detail=f"This endpoint accepts at most {limit} bytes",
            instance=scope.get("path", ""),
        )


SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = dict(SECURITY_HEADERS)
        if hsts:
            self.headers["strict-transport-security"] = "max-age=63072000; includeSubDomains"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)

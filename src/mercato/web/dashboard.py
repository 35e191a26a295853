"""Mount the dashboard on the application: pages at `/app`, static files at `/app/static`.

Errors raised under `/app` become pages (or, for htmx, a message in the page's alert
region) instead of problem+json; the API keeps its own handler for everything else.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mercato.kernel.errors import DomainError
from mercato.web import auth_pages, home
from mercato.web.registry import get_registry
from mercato.web.session import APP_PATH, SignInRequired
from mercato.web.templating import STATIC_DIR, content_security_policy, is_htmx, render

Handler = Callable[[Request, Any], Response | Awaitable[Response]]
YEAR_S = 365 * 86400


class FingerprintedStaticFiles(StaticFiles):
    """Static files whose URLs carry a content hash (`?v=`), so caches may keep them."""

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["cache-control"] = f"public, max-age={YEAR_S}, immutable"
        return response


def _is_page_request(request: Request) -> bool:
    path = request.url.path
    wants_json = "application/json" in request.headers.get("accept", "")
    return (path == "/app" or path.startswith("/app/")) and not wants_json


def _sign_in_redirect(request: Request) -> Response:
    back = request.headers.get("hx-current-url") if is_htmx(request) else None
    target = back or str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
    if "://" in target:
        target = "/" + target.split("://", 1)[1].split("/", 1)[-1]
    login = f"/app/login?next={quote(target, safe='/')}"
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": login})
    return RedirectResponse(login, status_code=303)


def _error_page(request: Request, status: int, title: str, detail: str) -> Response:
    context = {"status": status, "title": title, "detail": detail}
    if is_htmx(request):
        response = render(request, "parts/alert.html", context, status_code=status)
        response.headers["HX-Retarget"] = "#alerts"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "error.html", context, status_code=status)


def _page_errors(api_handler: Handler) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        if not _is_page_request(request):
            answer = api_handler(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        if isinstance(exc, SignInRequired):
            return _sign_in_redirect(request)
        if isinstance(exc, DomainError):
            return _error_page(request, exc.status, exc.title, exc.detail)
        if isinstance(exc, RequestValidationError):
            return _error_page(request, 404, "Not found", "There is no such page.")
        assert isinstance(exc, StarletteHTTPException)
        title = "Not found" if exc.status_code == 404 else "Something is wrong"
        return _error_page(request, exc.status_code, title, str(exc.detail))

    return handle


class DashboardPolicy:
    """Every answer under `/app` carries the dashboard's Content-Security-Policy.

    Pages set it when rendered; this covers the rest (redirects, JSON, CSV downloads,
    static files such as the SVG favicon, errors raised before a page renders). A response
    that chose its own policy (the widget preview) keeps it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path != APP_PATH and not path.startswith(APP_PATH + "/"):
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-security-policy", content_security_policy())
            await send(message)

        await self.app(scope, receive, send_with_policy)


def mount_dashboard(app: FastAPI) -> None:
    """Routes, static files, page-style errors and the dashboard's CSP on every answer;
    call after the API's error handlers."""
    app.mount("/app/static", FingerprintedStaticFiles(directory=STATIC_DIR), name="dashboard")
    app.include_router(auth_pages.router)
    app.include_router(home.router)
    for router in get_registry().routers:
        app.include_router(router)
    for error in (DomainError, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(error, _page_errors(app.exception_handlers[error]))
    app.add_middleware(DashboardPolicy)

"""Typed domain errors and their one mapping to RFC 9457 problem details.

Services raise `DomainError` subclasses; nothing builds an error dict by hand. Every
error response is `application/problem+json` with `type`, `title`, `status`, `detail`,
`instance`, `request_id` and, for validation failures, field-level `errors`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute

from mercato.kernel.context import request_id_var

PROBLEM_BASE = "https://mercato.dev/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


class DomainError(Exception):
    """Base of every error a service may raise on purpose."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = list(errors) if errors else None
        self.headers = dict(headers or {})
        self.extra = extra


class NotFound(DomainError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    status, slug, title = 409, "conflict", "Conflict"


class Forbidden(DomainError):
    status, slug, title = 403, "forbidden", "Forbidden"


class Unauthorized(DomainError):
    status, slug, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class ValidationFailed(DomainError):
    status, slug, title = 422, "validation-error", "The request is not valid"


class PayloadTooLarge(DomainError):
    status, slug, title = 413, "payload-too-large", "The request body is too large"


class RateLimited(DomainError):
    status, slug, title = 429, "rate-limited", "Too many requests"


class ServiceUnavailable(DomainError):
    status, slug, title = 503, "service-unavailable", "A dependency is unavailable"


def field_error(field: str, message: str, code: str = "invalid") -> dict[str, str]:
    return {"field": field, "message": message, "code": code}


def problem_body(
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    instance: str,
    errors: Sequence[Mapping[str, Any]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "request_id": request_id_var.get(),
    }
    if errors is not None:
        body["errors"] = list(errors)
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    return body


def problem_response(
    request_path: str,
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    return JSONResponse(
        problem_body(
            status=status,
            slug=slug,
            title=title,
            detail=detail,
            instance=request_path,
            errors=errors,
            extra=extra,
        ),
        status_code=status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=dict(headers or {}),
    )


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        # "body" / "query" / "path" prefixes are transport detail; keep the field path.
        field_path = loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc
        errors.append(
            {
                "field": ".".join(field_path) or (loc[0] if loc else "body"),
                "location": loc[0] if loc else "body",
                "message": str(err.get("msg", "invalid")),
                "code": str(err.get("type", "invalid")),
            }
        )
    return errors


STATUS_PROBLEMS = {413: ("payload-too-large", "The request body is too large")}


def _slug_for_status(status: int) -> tuple[str, str]:
    if status in STATUS_PROBLEMS:
        return STATUS_PROBLEMS[status]
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return phrase.lower().replace(" ", "-").replace("'", ""), phrase


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return problem_response(
        request.url.path,
        status=exc.status,
        slug=exc.slug,
        title=exc.title,
        detail=exc.detail,
        errors=exc.errors,
        headers=exc.headers,
        extra=exc.extra,
    )


async def _request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc)
    malformed = any(e["code"] == "json_invalid" for e in errors)
    return problem_response(
        request.url.path,
        status=422,
        slug="malformed-json" if malformed else "validation-error",
        title="The request body is not valid JSON" if malformed else "The request is not valid",
        detail="; ".join(f"{e['field']}: {e['message']}" for e in errors[:5]),
        errors=errors,
    )


def _flattened(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """Routes of included routers too (FastAPI keeps those as wrappers around the router)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _flattened(inner.routes)
        else:
            yield route


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in _flattened(request.app.router.routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(request.scope["path"]):
            methods.update(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug, title = _slug_for_status(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else title
    headers = dict(exc.headers or {})
    if exc.status_code == 404 and detail == title:
        detail = f"No resource at {request.url.path}"
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    return problem_response(
        request.url.path,
        status=exc.status_code,
        slug=slug,
        title=title,
        detail=detail,
        headers=headers,
    )


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    """A constraint the service did not pre-check: a conflict, never a 500."""
    return problem_response(
        request.url.path,
        status=409,
        slug="conflict",
        title="Conflict",
        detail="The change conflicts with existing data",
    )


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(
        request.url.path,
        status=503,
        slug="database-unavailable",
        title="The database is unavailable",
        detail="PostgreSQL did not answer; retry shortly",
        headers={"Retry-After": "2"},
    )


async def _redis_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """Only what cannot be done safely without Redis gets here (e.g. revoking a cached key)."""
    return problem_response(
        request.url.path,
        status=503,
        slug="cache-unavailable",
        title="The cache is unavailable",
        detail="Redis did not answer and this change needs it; retry shortly",
        headers={"Retry-After": "2"},
    )


async def _dbapi_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if exc.connection_invalidated or isinstance(exc, OperationalError):
        return await _database_unavailable(request, exc)
    if isinstance(exc, DataError):
        return _unstorable_value(request)
    raise exc


async def _psycopg_data_error(request: Request, exc: Exception) -> JSONResponse:
    """The same refusal from the paths that write with psycopg directly (COPY, bulk writers)."""
    return _unstorable_value(request)


def _unstorable_value(request: Request) -> JSONResponse:
    # SQLSTATE class 22: a value PostgreSQL cannot store (a NUL byte in text, a number
    # out of range) that validation let through. The client's input, not our fault.
    return problem_response(
        request.url.path,
        status=422,
        slug="invalid-value",
        title="A value cannot be stored",
        detail="A value in the request cannot be stored (for example text with NUL bytes)",
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(PoolTimeoutError, _database_unavailable)
    app.add_exception_handler(DBAPIError, _dbapi_error)
    app.add_exception_handler(psycopg.DataError, _psycopg_data_error)
    app.add_exception_handler(RedisError, _redis_unavailable)

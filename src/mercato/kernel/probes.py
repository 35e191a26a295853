"""Liveness, readiness and metrics endpoints for load balancers and Prometheus."""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from mercato import __version__
from mercato.kernel.db import get_database
from mercato.kernel.errors import Unauthorized
from mercato.kernel.metrics import refresh_scraped, render_latest
from mercato.kernel.redis import get_redis
from mercato.settings import get_settings

router = APIRouter(tags=["operations"])

PROBE_TIMEOUT_S = 2.0


@router.get("/health", summary="Liveness: the process answers (no dependencies checked)")
async def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


async def _check_postgres() -> None:
    async with get_database().session() as session:
        await session.execute(text("SELECT 1"))


async def _check_redis() -> None:
    await get_redis().ping()


async def _probe(check: Any) -> str | None:
    try:
        await asyncio.wait_for(check(), PROBE_TIMEOUT_S)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__
    return None


@router.get(
    "/ready",
    summary="Readiness: PostgreSQL and Redis answer",
    responses={503: {"description": "A dependency failed; the body names it"}},
)
async def ready() -> JSONResponse:
    postgres, redis = await asyncio.gather(_probe(_check_postgres), _probe(_check_redis))
    checks = {
        "postgres": "ok" if postgres is None else "failed",
        "redis": "ok" if redis is None else "failed",
    }
    if postgres is None and redis is None:
        return JSONResponse({"status": "ok", "checks": checks})
    failing = [name for name, err in (("postgres", postgres), ("redis", redis)) if err]
    errors = {name: err for name, err in (("postgres", postgres), ("redis", redis)) if err}
    return JSONResponse(
        {
            "status": "unavailable",
            "failing": failing,
            "checks": checks,
            "errors": errors,
            "detail": f"{', '.join(failing)} did not answer",
        },
        status_code=503,
    )


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    settings = get_settings()
    if settings.metrics_token is not None:
        expected = f"Bearer {settings.metrics_token.get_secret_value()}"
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Unauthorized("A valid metrics token is required")
    await refresh_scraped()
    payload, content_type = render_latest(
        multiprocess_mode=settings.prometheus_multiproc_dir is not None
    )
    return Response(payload, media_type=content_type)

"""The FastAPI application factory: middleware (the gateway), routers, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from threadpoolctl import threadpool_limits

from mercato import __version__
from mercato.kernel import error_reports, listen, probes, tracing
from mercato.kernel.cors import SplitCORSMiddleware
from mercato.kernel.db import close_database, get_database, init_database
from mercato.kernel.errors import install_error_handlers
from mercato.kernel.jobs import job_app, retry_stalled_jobs
from mercato.kernel.lean import LeanRoutes
from mercato.kernel.logging import configure_logging
from mercato.kernel.metrics import register_pool
from mercato.kernel.middleware import (
    BodyLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from mercato.kernel.openapi import install_problem_docs, operation_id
from mercato.kernel.redis import close_redis, init_redis
from mercato.kernel.route_index import guard_routers
from mercato.modules import import_all
from mercato.modules.analytics import router as analytics_router
from mercato.modules.cart import router as cart_router
from mercato.modules.catalog import router as catalog_router
from mercato.modules.channels import router as channels_router
from mercato.modules.content import router as content_router
from mercato.modules.customers import router as customers_router
from mercato.modules.discounts import router as discounts_router
from mercato.modules.experiments import router as experiments_router
from mercato.modules.feedback import router as feedback_router
from mercato.modules.identity import audit_router, auth_router, tenants_router
from mercato.modules.insights import router as insights_router
from mercato.modules.integrations import router as integrations_router
from mercato.modules.inventory import router as inventory_router
from mercato.modules.locations import router as locations_router
from mercato.modules.masterdata import router as masterdata_router
from mercato.modules.media import router as media_router
from mercato.modules.notifications import router as notifications_router
from mercato.modules.orders import router as orders_router
from mercato.modules.platform import router as platform_router
from mercato.modules.profile import router as profile_router
from mercato.modules.recommendations import lean as recommendations_lean
from mercato.modules.recommendations import router as recommendations_router
from mercato.modules.reports import router as reports_router
from mercato.modules.tracking import lean as tracking_lean
from mercato.modules.tracking import router as tracking_router
from mercato.modules.webhooks import router as webhooks_router
from mercato.modules.widgets import BeaconEvents
from mercato.modules.widgets import router as widgets_router
from mercato.settings import Settings, get_settings
from mercato.web import mount_dashboard
from mercato.worker import open_queue, worker_options

BULK_PATH_SUFFIXES = ("/batch", "/media", "/import")


def _pool_status() -> dict[str, int]:
    pool = get_database().engine.sync_engine.pool
    return {
        "size": int(getattr(pool, "size", lambda: 0)()),
        "checked_out": int(getattr(pool, "checkedout", lambda: 0)()),
        "overflow": int(getattr(pool, "overflow", lambda: 0)()),
    }


@asynccontextmanager
async def _inprocess_worker(settings: Settings) -> AsyncIterator[None]:
    """The demo runs jobs inside the server process, so one command gives a live system."""
    async with open_queue(settings):
        await retry_stalled_jobs()
        runner = asyncio.create_task(
            job_app.run_worker_async(
                **worker_options(settings, concurrency=settings.worker_concurrency),
                install_signal_handlers=False,
            )
        )
        try:
            yield
        finally:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner


def _freeze_startup_heap() -> None:
    """Keep the garbage collector's full passes off what start-up built (modules, models,
    routes: hundreds of thousands of objects that live as long as the process).

    Otherwise every full collection rescans them all, about a quarter of a second of CPU
    on this server, several times a minute under event ingestion (bench/ingest_batch.py).
    What start-up left as cyclic garbage is collected first; objects made later are
    collected as usual. Once per process (tests start many apps in one).
    """
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # Requests score shoppers with BLAS on small arrays. Left at one thread per core,
    # OpenBLAS's extra threads spin-wait after every call: a cache miss cost 29 ms of CPU
    # instead of 8 (bench/capacity.py --only reco_miss). `mercato worker` fits keep every core.
    threadpool_limits(limits=1, user_api="blas")
    database = init_database(settings)
    init_redis(settings)
    register_pool(_pool_status)
    listen.start(database.listen_connection)
    _freeze_startup_heap()
    try:
        if settings.inprocess_worker:
            async with _inprocess_worker(settings):
                yield
        else:
            yield
    finally:
        await listen.stop()
        await close_redis()
        await close_database()
        tracing.shutdown()
        error_reports.shutdown()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.check_production_secrets()
    configure_logging(settings)
    tracing.configure()
    error_reports.configure(settings)
    import_all("jobs")  # event handlers and tasks register themselves on import

    app = FastAPI(
        title="Mercato",
        version=__version__,
        summary="Open, multi-tenant commerce platform for retailers.",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    install_error_handlers(app)
    install_problem_docs(app)

    app.include_router(probes.router)
    app.include_router(auth_router.jwks_router)
    app.include_router(auth_router.router)
    app.include_router(tenants_router.router)
    app.include_router(audit_router.router)
    # Before the catalog's: `/categories/alignment` must not be read as a category id.
    app.include_router(channels_router.router)
    app.include_router(catalog_router.router)
    app.include_router(media_router.router)
    app.include_router(media_router.public_router)
    app.include_router(webhooks_router.router)
    app.include_router(locations_router.router)
    app.include_router(inventory_router.router)
    app.include_router(cart_router.router)
    app.include_router(customers_router.router)
    app.include_router(discounts_router.router)
    app.include_router(orders_router.router)
    app.include_router(orders_router.webhook_router)
    app.include_router(channels_router.google_router)
    app.include_router(channels_router.public_router)
    if settings.google_sandbox:
        app.include_router(channels_router.sandbox_router)
    app.include_router(profile_router.router)
    app.include_router(recommendations_router.router)
    app.include_router(experiments_router.router)
    app.include_router(widgets_router.router)
    app.include_router(widgets_router.sdk_router)
    app.include_router(feedback_router.router)
    app.include_router(content_router.router)
    app.include_router(notifications_router.router)
    app.include_router(platform_router.router)
    mount_dashboard(app)
    app.include_router(tracking_router.router)
    app.include_router(integrations_router.router)
    app.include_router(masterdata_router.router)
    app.include_router(analytics_router.router)
    app.include_router(insights_router.router)
    app.include_router(reports_router.router)
    guard_routers(app)

    def body_limit(path: str) -> int:
        if path.endswith(BULK_PATH_SUFFIXES):
            return settings.max_bulk_body_bytes
        return settings.max_body_bytes

    # Added innermost first: the request-context layer must wrap everything else.
    app.add_middleware(
        LeanRoutes, routes=recommendations_lean.LEAN_ROUTES + tracking_lean.LEAN_ROUTES
    )
    # Always on: publishable keys bring their own origins (`identity.origins`).
    app.add_middleware(
        SplitCORSMiddleware,
        origins=settings.cors_origins,
        credentialed_origins=settings.cors_credentialed_origins,
    )
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.is_production)
    app.add_middleware(BodyLimitMiddleware, limit_for=body_limit)
    app.add_middleware(BeaconEvents)
    app.add_middleware(RequestContextMiddleware)
    tracing.install(app)  # outermost: the request's span covers every other layer
    return app

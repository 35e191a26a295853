"""The `mercato` command: serve, worker, migrate, version, and the operator tools."""

from __future__ import annotations

import asyncio
import atexit
import os
import signal
import subprocess
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from mercato import __version__
from mercato.demo.cli import demo_app
from mercato.kernel.db import Database, close_database, init_database
from mercato.kernel.hostnames import canonical_host, host_with_port
from mercato.modules.channels.cli import taxonomy_app
from mercato.modules.platform.commands import backup_app, create_admin, export_app
from mercato.modules.recommendations.cli import reco_app
from mercato.settings import Settings, get_settings

app = typer.Typer(
    name="mercato",
    help="Mercato: an open, multi-tenant commerce platform for retailers.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console(stderr=True)
app.command("create-admin")(create_admin)
app.add_typer(backup_app, name="backup")
app.add_typer(demo_app, name="demo")
app.add_typer(export_app, name="export")
app.add_typer(reco_app, name="reco")
app.add_typer(taxonomy_app, name="taxonomy")


def _exit_cleanly_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so exit handlers run (they stop embedded servers)."""

    def _exit(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
) -> None:
    """Apply database migrations (as the owner role)."""
    from mercato.kernel.migrate import upgrade

    settings = get_settings()
    upgrade(settings, revision)
    console.print(f"[green]database migrated to {revision}[/green]")
    if revision == "head":
        _load_shipped_taxonomy(settings)


def _load_shipped_taxonomy(settings: Settings) -> None:
    """A fresh install gets Google's taxonomy from the copy Mercato ships (no download)."""
    from mercato.kernel.db import resolve_urls
    from mercato.modules.channels import load_bundled_if_empty

    report = asyncio.run(load_bundled_if_empty(resolve_urls(settings).owner))
    if report is not None:
        console.print(f"taxonomy {report.version}: {report.loaded} categories loaded")


def _with_google_sandbox(settings: Settings, host: str, port: int) -> Settings:
    """The demo pushes feeds to the built-in Merchant API sandbox unless a real Google
    client is configured (or the sandbox was set either way explicitly). The sandbox is
    this server, usually on a loopback address, so egress is told to allow it."""
    if settings.google_client_id or "MERCATO_GOOGLE_SANDBOX" in os.environ:
        return settings
    os.environ["MERCATO_GOOGLE_SANDBOX"] = "true"
    os.environ["MERCATO_GOOGLE_MERCHANT_API_URL"] = f"http://{host}:{port}/sandbox/google"
    allowed = [*settings.egress_allowed_hosts, host_with_port(canonical_host(host), port)]
    os.environ["MERCATO_EGRESS_ALLOWED_HOSTS"] = ",".join(allowed)
    get_settings.cache_clear()
    return get_settings()


# How long uvicorn's supervisor waits for a worker to answer its health-check ping before
# killing and replacing it. uvicorn's 5 s is shorter than a new worker's start on a busy
# machine (a spawned worker re-imports this module and the app before its ping thread
# runs: 3.4 s at load 5 on 2 cores), so replacements were killed while still starting.
WORKER_HEALTHCHECK_S = 30


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers narrow)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _start_demo_traffic(settings: Settings, host: str, port: int) -> None:
    """Simulated shoppers beside the demo server, stopped when this process exits."""
    from mercato.demo.traffic import keys_path, start_traffic

    if settings.demo_traffic_rate <= 0:
        return
    reachable = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - read, not bound
    url = f"http://{host_with_port(canonical_host(reachable), port)}"
    process = start_traffic(url, keys_path(settings.data_dir), settings.demo_traffic_rate)
    console.print(
        f"  traffic:   {settings.demo_traffic_rate:g} simulated visits/s "
        "(MERCATO_DEMO_TRAFFIC_RATE=0 turns it off)"
    )
    atexit.register(_stop, process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Server processes (default: one per usable core; 1 with --demo)"),
    ] = None,
    demo: Annotated[
        bool, typer.Option(help="Migrate, seed a demo tenant once and run a worker in-process")
    ] = False,
    with_worker: Annotated[
        bool | None,
        typer.Option(help="Run the job worker inside the server process (default: on with --demo)"),
    ] = None,
) -> None:
    """Serve the HTTP API and dashboard."""
    import uvicorn

    from mercato.kernel.db import resolve_urls
    from mercato.kernel.redis import resolve_url

    settings = get_settings()
    settings.check_production_secrets()
    _exit_cleanly_on_sigterm()
    # Join (or start) embedded servers here, so this process outlives its server workers
    # and is the one that stops the servers at the end.
    resolve_urls(settings)
    resolve_url(settings)
    if demo:
        from mercato.demo import prepare_demo

        settings = _with_google_sandbox(settings, host, port)

        credentials = asyncio.run(prepare_demo(settings, f"http://{host}:{port}"))
        for line in credentials:
            console.print(line)
        _start_demo_traffic(settings, host, port)
    if with_worker if with_worker is not None else demo:
        os.environ["MERCATO_INPROCESS_WORKER"] = "true"
        get_settings.cache_clear()  # the app factory below must see the worker switched on
    if workers is None:
        workers = 1 if demo else usable_cores()
    if workers > 1:
        from mercato.kernel.logging import configure_logging

        # This process becomes uvicorn's supervisor: its log says when a worker dies and
        # is replaced (unconfigured, those INFO lines would go nowhere).
        configure_logging(settings)
        metrics_dir = (settings.data_dir / "metrics").resolve()
        metrics_dir.mkdir(parents=True, exist_ok=True)
        for stale in metrics_dir.glob("*.db"):
            stale.unlink()
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    console.print(
        f"[bold]Mercato {__version__}[/bold] serving on http://{host}:{port} "
        f"({workers} process{'es' if workers > 1 else ''})"
    )
    # uvloop and httptools are named rather than left to "auto", so a host that lacks them
    # fails at start instead of silently serving on the slower pure-Python stack.
    uvicorn.run(
        "mercato.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        log_config=None,
        proxy_headers=True,
        timeout_graceful_shutdown=20,
    )


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="Jobs run at the same time")] = 4,
    queues: Annotated[
        list[str] | None, typer.Option("--queue", help="Queues to listen to (default: all)")
    ] = None,
) -> None:
    """Run background jobs and periodic tasks until stopped."""
    from mercato.kernel.logging import configure_logging
    from mercato.worker import run_worker

    settings = get_settings()
    settings.check_production_secrets()
    configure_logging(settings)
    _exit_cleanly_on_sigterm()
    asyncio.run(run_worker(settings, concurrency=concurrency, queues=queues))


@app.command("rotate-keys")
def rotate_keys() -> None:
    """Add a new token-signing key; older keys keep verifying until their tokens expire."""
    from mercato.modules.identity import rotate_keys as rotate

    async def _rotate() -> str:
        database = init_database(get_settings())
        try:
            async with database.session() as session:
                return await rotate(session)
        finally:
            await close_database()

    kid = asyncio.run(_rotate())
    console.print(f"[green]new signing key {kid}[/green]; previous keys retire after 16 minutes")


import_app = typer.Typer(help="Import data from outside systems.", no_args_is_help=True)
app.add_typer(import_app, name="import")


def _run_with_database(work: Callable[[Database], Awaitable[None]]) -> None:
    """Open the database and Redis for one command, and close them whatever happens."""
    from mercato.kernel.errors import DomainError
    from mercato.kernel.redis import close_redis, init_redis

    async def run() -> None:
        settings = get_settings()
        database = init_database(settings)
        init_redis(settings)
        try:
            await work(database)
        finally:
            await close_redis()
            await close_database()

    try:
        asyncio.run(run())
    except DomainError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from None


@import_app.command("products")
def import_products(
    file: Annotated[Path, typer.Argument(help="A .csv (as exported) or .jsonl file")],
    tenant: Annotated[str, typer.Option(help="Tenant id or slug")],
    chunk: Annotated[int, typer.Option(min=1, max=10_000, help="Rows per transaction")] = 1_000,
    resume: Annotated[
        bool, typer.Option(help="Skip the chunks an earlier run of this file committed")
    ] = False,
) -> None:
    """Upsert products from a file, chunk by chunk, with a progress bar; resumable."""
    from rich.progress import MofNCompleteColumn, Progress, TimeRemainingColumn

    from mercato.modules import import_all
    from mercato.modules.catalog import ImportReport, import_file
    from mercato.modules.identity import resolve_tenant

    if not file.is_file():
        raise typer.BadParameter(f"{file} is not a file", param_hint="FILE")
    # Every table (foreign keys) and every event subscriber, as in the server.
    import_all("models")
    import_all("jobs")
    reports: list[ImportReport] = []

    async def work(database: Database) -> None:
        tenant_id = await resolve_tenant(database, tenant)
        with Progress(
            *Progress.get_default_columns()[:-1],
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as progress:
            bar = progress.add_task(f"importing {file.name}", total=None)
            reports.append(
                await import_file(
                    database,
                    tenant_id,
                    file,
                    chunk_size=chunk,
                    resume=resume,
                    on_progress=lambda done, total: progress.update(
                        bar, completed=done, total=total
                    ),
                )
            )

    _run_with_database(work)
    report = reports[0]
    console.print(
        f"[green]{report.created} created, {report.updated} updated[/green], "
        f"{len(report.failures)} rejected; {report.chunks_written} chunks written, "
        f"{report.chunks_skipped} already done"
    )
    for failure in report.failures[:10]:
        problems = "; ".join(f"{e['field']}: {e['message']}" for e in failure.errors)
        console.print(f"  row {failure.index} ({failure.product_id or '?'}): {problems}")
    if report.rejected_file is not None:
        console.print(f"every rejected row is listed in {report.rejected_file}")
        raise typer.Exit(1)


@import_app.command("ga4")
def import_ga4(
    path: Annotated[
        Path, typer.Argument(help="A GA4 export folder (events_YYYYMMDD.json[.gz]) or file")
    ],
    tenant: Annotated[str, typer.Option(help="Tenant id or slug")],
    start: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day")] = None,
    end: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day")] = None,
) -> None:
    """Import GA4 BigQuery-export files; re-importing a range replaces it."""
    from mercato.modules.identity import resolve_tenant
    from mercato.modules.tracking import commands

    async def work(database: Database) -> None:
        tenant_id = await resolve_tenant(database, tenant)
        counts = await commands.import_ga4(
            database,
            tenant_id,
            path,
            start=start.date() if start else None,
            end=end.date() if end else None,
            console=console,
        )
        console.print(
            f"[green]{counts.accepted:,} events stored[/green] from {counts.rows:,} rows in "
            f"{counts.files} files ({counts.duplicates:,} duplicates, "
            f"{counts.rejected:,} rejected, "
            f"{counts.row_errors:,} unreadable rows, {counts.replaced:,} replaced)"
        )
        for error in counts.errors[:10]:
            console.print(f"  [yellow]{error}[/yellow]")

    _run_with_database(work)


@app.command()
def simulate(
    tenant: Annotated[str, typer.Option(help="Tenant id or slug")],
    days: Annotated[int, typer.Option(min=1, max=400)] = 90,
    users: Annotated[int, typer.Option(min=1)] = 5000,
    products: Annotated[int, typer.Option(min=10)] = 500,
    seed: Annotated[int, typer.Option()] = 42,
    ga4_out: Annotated[
        Path | None, typer.Option(help="Write GA4 export files here instead of storing events")
    ] = None,
) -> None:
    """Simulate shoppers (deterministic for a seed) and store their events."""
    from mercato.modules.identity import resolve_tenant
    from mercato.simulation import simulate_into, simulate_to_ga4

    if ga4_out is not None:
        files = simulate_to_ga4(ga4_out, days=days, users=users, products=products, seed=seed)
        console.print(f"[green]{len(files)} GA4 export files written to {ga4_out}[/green]")
        return

    async def work(database: Database) -> None:
        tenant_id = await resolve_tenant(database, tenant)
        outcome = await simulate_into(
            database,
            tenant_id,
            days=days,
            users=users,
            products=products,
            seed=seed,
            console=console,
        )
        console.print(
            f"[green]{outcome.accepted:,} events stored[/green], "
            f"{outcome.duplicates:,} already there"
        )

    _run_with_database(work)


if __name__ == "__main__":
    app()

"""`mercato demo traffic`: the demo shop's simulated shoppers, live, against any server."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import httpx
import typer
from rich.console import Console
from rich.live import Live

from mercato.demo.traffic import DEMO_ORIGIN, keys_path, read_target
from mercato.kernel import egress
from mercato.kernel.hostnames import canonical_host, host_with_port
from mercato.settings import get_settings

if TYPE_CHECKING:  # the simulation loads numpy: imported when the command runs
    from mercato.simulation.traffic import TrafficStats, TrafficTarget

demo_app = typer.Typer(help="The demo shop: its live simulated traffic.", no_args_is_help=True)
console = Console(stderr=True)
# The demo seed's shop (see mercato.demo.tracking): the stream's shoppers are its shoppers.
DEMO_PRODUCTS, DEMO_USERS, DEMO_SEED = 500, 5000, 42
READY_TIMEOUT_S = 600.0


def _allow(url: str) -> None:
    """Egress refuses internal addresses unless allowed; the operator named this server."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise typer.BadParameter(f"{url} is not an http(s) address", param_hint="--url")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    allowed = [
        *get_settings().egress_allowed_hosts,
        host_with_port(canonical_host(parts.hostname), port),
    ]
    os.environ["MERCATO_EGRESS_ALLOWED_HOSTS"] = ",".join(allowed)
    get_settings.cache_clear()


async def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    async with egress.http_client(timeout_s=5) as http:
        while time.monotonic() < deadline:
            try:
                response = await http.get(f"{url.rstrip('/')}/ready")
            except (httpx.HTTPError, egress.EgressRefused):
                response = None  # not up yet
            if response is not None and response.status_code == 200:
                return
            await asyncio.sleep(1)
    console.print(f"[red]{url} was not ready within {READY_TIMEOUT_S:.0f}s[/red]")
    raise typer.Exit(1)


def _target(
    url: str,
    keys_file: Path | None,
    tenant: str | None,
    key: str | None,
    origin: str,
    secret_key: str | None,
) -> TrafficTarget:
    from mercato.simulation.traffic import TrafficTarget

    if key is not None:
        if tenant is None:
            raise typer.BadParameter("--key needs --tenant (the tenant id)", param_hint="--tenant")
        return TrafficTarget(url, tenant, key, origin, secret_key)
    path = keys_file or keys_path(get_settings().data_dir)
    if not path.exists():
        raise typer.BadParameter(
            f"no keys: pass --tenant and --key, or start `mercato serve --demo` (it writes {path})",
            param_hint="--key",
        )
    return read_target(path, url)


@demo_app.command()
def traffic(
    rate: Annotated[
        float, typer.Option(min=0.01, help="Visits per second (Poisson arrivals)")
    ] = 2.0,
    url: Annotated[str, typer.Option(help="The Mercato server")] = "http://127.0.0.1:8000",
    tenant: Annotated[str | None, typer.Option(help="The tenant id (with --key)")] = None,
    key: Annotated[
        str | None,
        typer.Option(help="A publishable read_write key of the tenant (the storefront's)"),
    ] = None,
    origin: Annotated[
        str, typer.Option(help="An origin listed on the publishable key")
    ] = DEMO_ORIGIN,
    secret_key: Annotated[
        str | None,
        typer.Option(
            envvar="MERCATO_DEMO_SECRET_KEY",
            help="A secret read_write key for checkouts (else visits stop at checkout)",
        ),
    ] = None,
    keys_file: Annotated[
        Path | None,
        typer.Option(
            help="Keys `serve --demo` wrote (default: the data directory's demo-traffic.json)"
        ),
    ] = None,
    duration: Annotated[
        float | None, typer.Option(min=1, help="Stop after this many seconds")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No status line")] = False,
) -> None:
    """Send the demo shop's simulated shoppers to a server, live, through its public API."""
    from mercato.simulation.traffic import shop_stream

    target = _target(url, keys_file, tenant, key, origin, secret_key)
    _allow(url)
    stream = shop_stream(target, products=DEMO_PRODUCTS, users=DEMO_USERS, seed=DEMO_SEED)
    currency = stream.world.shop.currency

    async def run() -> TrafficStats:
        await _wait_ready(url)
        if quiet:
            console.print(f"[dim]demo traffic: {rate:g} visits/s to {url}[/dim]")
            return await stream.run(rate, duration_s=duration)
        with Live(console=console, refresh_per_second=2, transient=True) as live:
            return await stream.run(
                rate, duration_s=duration, on_tick=lambda s: live.update(s.line(currency))
            )

    try:
        stats = asyncio.run(run())
    except KeyboardInterrupt:
        stats = stream.stats
    console.print(stats.line(currency))

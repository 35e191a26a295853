"""Figures for docs/operations.md: what clients see while Redis and PostgreSQL are down.

    .venv/bin/python -m tests.hardening.measure_outages

One live server on its own embedded servers, the load generator's four clients, then
Redis killed for 4 s and PostgreSQL stopped for 4 s. Latencies are printed next to the
same run's baseline (before anything broke) as a ratio; "ready" is how long `/ready` took
to turn green again once the server was back.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from tests.hardening.live import Deployment, Server
from tests.hardening.load import LoadGenerator, Outcome
from tests.hardening.merchant import open_merchant

OUTAGE_S = 4.0
console = Console()


def _p(outcomes: list[Outcome], percent: int) -> float:
    ordered = sorted(o.elapsed_s for o in outcomes)
    return ordered[min(len(ordered) - 1, percent * len(ordered) // 100)] * 1000


def _until_ready(server: Server) -> float:
    started = time.monotonic()
    while httpx.get(f"{server.url}/ready", timeout=5).status_code != 200:
        time.sleep(0.05)
    return time.monotonic() - started


def main() -> None:
    deployment = Deployment.embedded(Path(tempfile.mkdtemp(prefix="mercato-outages-")) / "data")
    try:
        deployment.run("migrate")
        server = deployment.serve("api")
        merchant = open_merchant(server.url, "measure")
        with LoadGenerator(merchant, max_seconds=90) as load:
            time.sleep(3)
            baseline_end = time.monotonic()
            deployment.stop_redis()
            redis_down = time.monotonic()
            time.sleep(OUTAGE_S)
            deployment.start_redis()
            redis_up = time.monotonic()
            redis_ready_s = _until_ready(server)
            time.sleep(2)
            deployment.stop_postgres()
            postgres_down = time.monotonic()
            time.sleep(OUTAGE_S)
            deployment.resume_postgres()
            postgres_up = time.monotonic()
            postgres_ready_s = _until_ready(server)
            time.sleep(2)
    finally:
        deployment.close()

    outcomes = load.outcomes
    baseline = [o for o in outcomes if o.started_at < baseline_end]
    windows = {
        "Redis down": (
            [o for o in outcomes if redis_down <= o.started_at < redis_up],
            redis_ready_s,
        ),
        "PostgreSQL down": (
            [o for o in outcomes if postgres_down <= o.started_at < postgres_up],
            postgres_ready_s,
        ),
    }
    table = Table(title=f"{len(outcomes)} requests, 4 clients, outages of {OUTAGE_S:g} s")
    columns = ("window", "requests", "2xx", "503", "other", "p50 ms (ratio)", "max ms", "ready")
    for column in columns:
        table.add_column(column)
    base_p50 = _p(baseline, 50)
    base_ok = sum(o.status in (200, 201) for o in baseline)
    table.add_row(
        "baseline", str(len(baseline)), str(base_ok), "0", "0", f"{base_p50:.0f}",
        f"{_p(baseline, 100):.0f}", "",
    )  # fmt: skip
    for name, (window, ready_s) in windows.items():
        ok = sum(o.status in (200, 201) for o in window)
        unavailable = sum(o.status == 503 for o in window)
        table.add_row(
            name,
            str(len(window)),
            str(ok),
            str(unavailable),
            str(len(window) - ok - unavailable),
            f"{_p(window, 50):.0f} ({_p(window, 50) / base_p50:.2f})",
            f"{_p(window, 100):.0f}",
            f"{ready_s:.2f} s",
        )
    console.print(table)
    errors = [o for o in outcomes if o.status is None or (o.status >= 500 and o.status != 503)]
    console.print(f"server errors other than 503, and dropped connections: {len(errors)}")


if __name__ == "__main__":
    main()

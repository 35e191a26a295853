"""How fast the dashboard's pages render on the demo data (budget: 300 ms each).

    .venv/bin/python bench/dashboard_pages.py [--rounds 30]
    .venv/bin/python bench/dashboard_pages.py --url http://127.0.0.1:8000 --data-dir .mercato

Without `--url` it starts its own demo: `mercato serve --demo` on a free port, on a
scratch database of the PostgreSQL server in `MERCATO_DATABASE_URL` (the local one when
unset) and a temporary data directory, removed at the end; with `--url` it measures a
demo that is already running (`make demo`). It logs in through the login form with the
demo credentials, requests every page `--rounds` times one after another, and prints
p50/p95 next to `/health` (an endpoint that does no work) in the same run, as a ratio.
If the demo does not come up within `--start-timeout` seconds the script exits with
code 77 (skipped, for `bench/run_all.py`) and says why.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from ingest_server import DEFAULT_REDIS, DEFAULT_SERVER, free_port, scratch_database
from results import Figure, add_json_option, figure, write_json
from rich.console import Console
from rich.table import Table

BENCH = {
    "order": 90,
    "quick": ["--rounds", "10"],
    "full": ["--rounds", "30"],
}
SKIP_EXIT = 77
BUDGET_MS = 300.0
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def timed(client: httpx.Client, url: str, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return samples


def log_in(client: httpx.Client, data_dir: Path) -> str:
    credentials = json.loads((data_dir / "demo-credentials.json").read_text())
    form = client.get("/app/login")
    match = CSRF.search(form.text)
    assert match, "the login page has no CSRF token"
    login = client.post(
        "/app/login", data={**credentials, "csrf_token": match.group(1), "next": "/app"}
    )
    assert login.status_code == 303, f"login failed: {login.status_code}"
    return str(client.get("/app").headers["location"])


class DemoUnavailableError(RuntimeError):
    """The demo could not be started here; the benchmark is skipped, not failed."""


@contextmanager
def own_demo(start_timeout: float) -> Iterator[tuple[str, Path]]:
    """`mercato serve --demo` on a scratch database; yields (base URL, data directory)."""
    server = os.environ.get("MERCATO_DATABASE_URL") or DEFAULT_SERVER
    data_dir = Path(tempfile.mkdtemp(prefix="mercato-bench-demo-"))
    port = free_port()
    with scratch_database(server) as dsn:
        env = {
            **os.environ,
            "MERCATO_DATABASE_URL": dsn,
            "MERCATO_REDIS_URL": os.environ.get("MERCATO_REDIS_URL") or DEFAULT_REDIS,
            "MERCATO_DATA_DIR": str(data_dir),
            "MERCATO_LOG_LEVEL": "WARNING",
            "MERCATO_RATE_LIMIT_ENABLED": "false",
        }
        log = (data_dir / "server.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "mercato.cli", "serve", "--demo", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(process, base, start_timeout)
            yield base, data_dir
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()
            shutil.rmtree(data_dir, ignore_errors=True)


def _wait_ready(process: subprocess.Popen[bytes], base: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DemoUnavailableError(f"the demo server exited with code {process.returncode}")
        try:
            if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(1)
    raise DemoUnavailableError(f"the demo was not ready after {timeout:.0f} s")


def measure(url: str, data_dir: Path, rounds: int) -> list[Figure]:
    """Log in, time every page; prints the table and returns the figures."""
    figures = []
    with httpx.Client(base_url=url, follow_redirects=False, timeout=10) as client:
        home = log_in(client, data_dir)
        pages = {
            "login page": "/app/login",
            "overview": home,
            "members": f"{home}/settings/members",
            "locations": f"{home}/locations",
            "API keys": f"{home}/settings/api-keys",
            "webhooks": f"{home}/settings/webhooks",
            "audit log": f"{home}/settings/audit",
            # capability screens (dashboard helper)
            "products": f"{home}/catalog/products",
            "product search": f"{home}/catalog/products?q=sofa&available=true",
            "categories": f"{home}/catalog/categories",
            "import products": f"{home}/catalog/import",
            "experiments": f"{home}/personalization/experiments",
            "widget editor": f"{home}/personalization/widgets",
            "recommendations": f"{home}/personalization/recommendations",
            "Google channels": f"{home}/channels",
            "business profile": f"{home}/business-profile",
            "tracking calendar": f"{home}/tracking",
            "event explorer": f"{home}/events",
            "integrations": f"{home}/settings/integrations",
        }
        baseline = statistics.median(timed(client, "/health", rounds))
        table = Table(title=f"dashboard pages, {rounds} requests each (ms)")
        for column in ("page", "p50", "p95", "p50 / health", "within 300 ms"):
            table.add_column(column, justify="left" if column == "page" else "right")
        table.add_row("/health (baseline)", f"{baseline:.1f}", "", "1.0", "")
        for name, page in pages.items():
            samples = sorted(timed(client, page, rounds))
            p50 = statistics.median(samples)
            p95 = samples[int(0.95 * (len(samples) - 1))]
            p99 = samples[int(0.99 * (len(samples) - 1))]
            within = "yes" if p95 < BUDGET_MS else "NO"
            table.add_row(name, f"{p50:.1f}", f"{p95:.1f}", f"{p50 / baseline:.1f}", within)
            figures.append(
                figure(
                    f"{name} p50",
                    p50,
                    "ms",
                    baseline=("GET /health p50", baseline),
                    target="p95 < 300 ms",
                    met=p95 < BUDGET_MS,
                    percentiles=(p50, p95, p99),
                )
            )
    Console().print(table)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a running demo (default: start one)")
    parser.add_argument("--data-dir", type=Path, default=Path(".mercato"))
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--start-timeout", type=float, default=420)
    add_json_option(parser)
    args = parser.parse_args()
    if args.url:
        write_json(args.json, measure(args.url, args.data_dir, args.rounds))
        return
    try:
        with own_demo(args.start_timeout) as (url, data_dir):
            figures = measure(url, data_dir, args.rounds)
    except DemoUnavailableError as unavailable:
        print(f"skipped: {unavailable}")
        sys.exit(SKIP_EXIT)
    write_json(args.json, figures)


if __name__ == "__main__":
    main()

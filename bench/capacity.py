"""Capacity at budget of each hot path: the highest offered rate at which p95 stays under
the path's latency budget with zero errors, for `mercato serve --workers 1` and `2`,
next to the in-run baseline `GET /health` on the same processes, and for the cache hit
next to `bench/minimal_app.py` (the same answer from a minimal app on the same stack).

    .venv/bin/python bench/capacity.py [--workers 1 2] [--step-seconds 8] [--drain-seconds 2]
        [--connections 64] [--only reco_hit events ...] [--products 5000 --events 50000]

One scratch database on the local PostgreSQL, the local Redis, rate limits on (with
budgets too large to refuse, so their Redis round trip is measured). Set-up, not
measured: a tenant with a secret key, a synthetic shop whose recommendation model is
fitted from the database (bench/reco_serving.py's fit), stocked products and carts
(bench/checkout.py's set-up), a warmed recommendation cache.

The load generator is `bench/loadgen.c`, compiled here with gcc into a temporary folder:
one C process, epoll, keep-alive connections, pre-rendered requests (each one different
where the path needs it: event ids, Idempotency-Keys, cache-missing placements). It is
open-loop: requests leave on a fixed schedule whatever the server does, and each latency
counts from the request's scheduled time, so queueing shows (no coordinated omission).
For each path the offered rate steps up a ladder; each step is bounded in time, and the
ladder stops at the first step that breaks the budget (p95 over it, any error, any
unexpected status, anything unanswered at the end of the step). The server's CPU time
(its processes' /proc/<pid>/stat) per request is reported next to `/health`'s, and the
generator's own CPU share says whether it could have been the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlencode

import httpx
import minimal_app
import psutil
import reco_serving
import redis as redis_lib
from checkout import _analyze, _carts, _invariant, _setup_catalog, checkout_request
from ingest_server import (
    DEFAULT_REDIS,
    DEFAULT_SERVER,
    Target,
    api_server,
    free_port,
    scratch_database,
    sign_up_tenant,
)
from ingest_single import _request, event_doc
from results import Figure, Series, add_json_option, figure, write_json
from rich.console import Console
from rich.table import Table

from mercato.modules.identity.limits import DEFAULT_LIMITS

BENCH = {
    "order": 95,
    "quick": [
        "--coarse",
        "--step-seconds",
        "1.5",
        "--drain-seconds",
        "1",
        "--products",
        "2000",
        "--events",
        "20000",
    ],
    "full": ["--step-seconds", "8", "--drain-seconds", "2"],
}
REPORT = """\
How to run: `make bench` runs it with the rest; alone,
`.venv/bin/python bench/run_all.py --mode quick --only capacity` (about three minutes) or
`.venv/bin/python bench/capacity.py --workers 2 --only reco_hit events`.

What the figures mean. For every hot path an open-loop generator (`bench/loadgen.c`, one
C process on loopback) offers a constant rate for a bounded step, then a higher one
(the ladders are in `bench/capacity.py`; quick mode takes every other rung and the
target rate, steps of 1.5 s; full mode every rung, steps of 8 s), against
`mercato serve --workers 1` and then `--workers 2` on one scratch database (analyzed after
its setup, as autovacuum keeps a live one). Latency
counts from each request's *scheduled* send time, so a server that falls behind shows
its whole queue. **Capacity at budget**
is the highest offered rate whose step kept p95 under the path's budget with no error,
no unexpected status and nothing unanswered; the ladder stops at the first step that
breaks it, so a figure equal to the top of the ladder means "at least". Its baseline is
`GET /health` (no auth, no I/O) on the same processes: the ratio is how much of the bare
stack's capacity the path keeps. The cache hit's baseline is stricter: the same request
answered by `bench/minimal_app.py` (FastAPI on the same uvicorn stack, the key from a
dict, one Redis pipeline, Mercato's own cached answer) with as many processes, drawn in
the same chart panel; the gap is what the platform's request path costs.
**Server CPU per request** is the API processes' CPU
time (from /proc) divided by the requests answered over the whole ladder: unlike
latency it hardly depends on what else the machine runs. **Generator CPU** is the load
generator's busiest step as a share of one core; well under 100 % means it was not the
limit (on two cores it still takes CPU from the server, so the figures are a lower bound
of what the server alone sustains). Checkout has no latency target: its budget of
p95 < 1 s only marks saturation; 409 `insufficient-stock` answers are expected (a scarce
product runs out) and the stock ledger is checked for oversell at the end.
The chart below plots p95 against offered rate per path, one line per process count,
the budget dashed; a point above the line broke the budget.
"""
HEALTH, HEALTH_UNIT = "health", "req/s"
CPU_TARGET_RATIO = 2.0  # an authenticated request costs at most twice /health


@dataclass(frozen=True)
class HotPath:
    """One hot path: its ladder of offered rates, budget and what its answers must be."""

    key: str
    label: str
    ladder: tuple[float, ...]
    budget_ms: float
    statuses: frozenset[int]
    target_rate: float | None = None  # issue 16's capacity target with 2 processes
    unit: str = HEALTH_UNIT


# Not a Mercato path: bench/minimal_app.py answering the cache-hit request (its floor).
MINIMAL = HotPath(
    "minimal",
    "minimal app, cached read",
    (50, 100, 200, 400, 700, 1000, 1500, 2000),
    10.0,
    frozenset({200}),
)
PATHS = (
    HotPath(
        HEALTH,
        "GET /health (baseline)",
        (100, 200, 400, 700, 1000, 1500, 2000, 3000, 4000),
        10.0,
        frozenset({200}),
    ),
    HotPath(
        "tenant_get",
        "GET {T} with an API key",
        (50, 100, 200, 400, 700, 1000, 1500, 2000),
        10.0,
        frozenset({200}),
    ),
    HotPath(
        "reco_hit",
        "recommendations, cache hit",
        (50, 100, 200, 400, 700, 1000, 1500, 2000),
        10.0,
        frozenset({200}),
        1000,
    ),
    HotPath(
        "reco_miss",
        "recommendations, cache miss",
        (10, 25, 50, 100, 200, 300, 500, 700, 1000),
        50.0,
        frozenset({200}),
        300,
    ),
    HotPath(
        "events",
        "POST {T}/events",
        (25, 50, 100, 200, 400, 700, 1000, 1500, 2000),
        50.0,
        frozenset({202}),
        1000,
    ),
    HotPath(
        "batch",
        "100-event POST {T}/events/batch",
        (2, 5, 10, 25, 50, 100, 200),
        20.0,
        frozenset({202}),
        50,
        "batches/s",
    ),
    HotPath(
        "checkout",
        "POST {T}/checkout",
        (10, 25, 50, 100, 175, 250, 400, 600),
        1000.0,
        frozenset({201, 409}),
        250,
    ),
)


@dataclass
class Step:
    rate: float
    sent: int
    answered: int
    errors: int
    timeouts: int
    statuses: dict[int, int]
    p50: float
    p95: float
    p99: float
    generator_cpu_share: float
    server_cpu_s: float
    failure: str = ""  # the start of the first 5xx answer
    replaced: list[int] = field(default_factory=list)  # server processes gone meanwhile
    ok: bool = False


@dataclass
class Ladder:
    path: HotPath
    workers: int
    steps: list[Step] = field(default_factory=list)

    @property
    def capacity(self) -> Step | None:
        passed = [step for step in self.steps if step.ok]
        return passed[-1] if passed else None

    @property
    def cpu_ms_per_request(self) -> float:
        """Server CPU per answered request over every step of the ladder: the largest
        steps dominate, which amortises what a step costs besides its requests (its
        connections, the server's timers) and the 10 ms granularity of /proc's counters."""
        answered = sum(s.answered for s in self.steps)
        return 1000 * sum(s.server_cpu_s for s in self.steps) / answered if answered else 0.0


def process_cpu(pid: int) -> dict[int, float]:
    """CPU seconds (user + system, from /proc/<pid>/stat) of the server and its children.

    Per process, so a step can count a worker replaced meanwhile from zero instead of
    losing the dead one's time from a total (and so it can tell that one was replaced).
    """
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = {}
    parent = psutil.Process(pid)
    for process in (parent, *parent.children(recursive=True)):
        try:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu[process.pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return cpu


def processes(workers: int) -> str:
    return f"{workers} process{'es' if workers > 1 else ''}"


def compile_loadgen(folder: Path) -> Path:
    if shutil.which("gcc") is None:
        print("skipped: gcc is needed to build bench/loadgen.c")
        sys.exit(77)
    binary = folder / "loadgen"
    source = Path(__file__).with_name("loadgen.c")
    subprocess.run(["gcc", "-O2", "-o", str(binary), str(source)], check=True)
    return binary


class Requests:
    """Pre-rendered requests per path; counters keep ids unique across steps and runs."""

    def __init__(self, target: Target, hot_users: list[str], rng: random.Random) -> None:
        self.target, self.hot_users, self.rng = target, hot_users, rng
        self.counter = 0
        self.key_headers = {"X-API-Key": target.key}

    def _next(self, count: int) -> range:
        first, self.counter = self.counter, self.counter + count
        return range(first, first + count)

    def _reco(self, user: str, placement: str) -> bytes:
        query = urlencode({"user_id": user, "placement": placement})
        path = f"/api/v1/tenants/{self.target.tenant_id}/recommendations?{query}"
        return _request("GET", path, self.key_headers)

    def render(self, key: str, count: int) -> list[bytes]:
        target = self.target
        json_headers = {**self.key_headers, "Content-Type": "application/json"}
        if key == HEALTH:
            return [_request("GET", "/health", {})]
        if key == "tenant_get":
            return [_request("GET", f"/api/v1/tenants/{target.tenant_id}", self.key_headers)]
        if key in ("reco_hit", MINIMAL.key):
            return [self._reco(user, "home") for user in self.hot_users]
        if key == "reco_miss":
            users = self.hot_users
            return [self._reco(users[n % len(users)], f"m{n}") for n in self._next(count)]
        if key == "events":
            return [
                _request("POST", target.events_path, json_headers, _compact(event_doc(n)))
                for n in self._next(count)
            ]
        if key == "batch":
            return [
                _request(
                    "POST",
                    f"{target.events_path}/batch",
                    json_headers,
                    _compact({"events": [event_doc(n) for n in self._next(100)]}),
                )
                for _ in range(count)
            ]
        if key == "checkout":
            carts = _carts(target, count, self.rng)
            return [checkout_request(target, cart) for cart in carts]
        raise ValueError(key)


def _compact(document: object) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def run_step(
    loadgen: Path,
    folder: Path,
    target: Target,
    path: HotPath,
    rate: float,
    requests: list[bytes],
    args: argparse.Namespace,
) -> Step:
    seconds = step_seconds(rate, args)
    count = int(rate * seconds + 0.5)  # as loadgen.c rounds it
    request_file = folder / "requests.bin"
    with request_file.open("wb") as out:
        for raw in requests:
            out.write(struct.pack("<I", len(raw)))
            out.write(raw)
    cpu = process_cpu(target.pid)
    done = subprocess.run(
        [
            str(loadgen),
            str(target.port),
            f"{rate:g}",
            f"{seconds:g}",
            str(args.connections),
            f"{args.drain_seconds:g}",
            str(request_file),
        ],
        capture_output=True,
        text=True,
        timeout=seconds + args.drain_seconds + 60,
        check=True,
    )
    after = process_cpu(target.pid)
    server_cpu = sum(seconds - cpu.get(pid, 0.0) for pid, seconds in after.items())
    data = json.loads(done.stdout)
    statuses = {int(code): count for code, count in data["statuses"].items()}
    step = Step(
        rate=rate,
        sent=data["sent"],
        answered=data["answered"],
        errors=data["errors"],
        timeouts=data["timeouts"],
        statuses=statuses,
        p50=data["p50"],
        p95=data["p95"],
        p99=data["p99"],
        generator_cpu_share=data["cpu_s"] / max(data["seconds"], 1e-9),
        server_cpu_s=server_cpu,
        failure=data["failure"],
        replaced=sorted(set(cpu) - set(after)),
    )
    step.ok = (
        step.p95 < path.budget_ms
        and step.errors == 0
        and step.timeouts == 0
        and set(statuses) <= path.statuses
        and step.answered == count
    )
    return step


def step_seconds(rate: float, args: argparse.Namespace) -> float:
    """A step lasts `--step-seconds`, longer at low rates so its p95 has enough requests."""
    return float(max(args.step_seconds, args.min_requests / rate))


def rungs(path: HotPath, coarse: bool) -> tuple[float, ...]:
    """The ladder, or every other rung of it (quick mode) plus the target rate."""
    if not coarse:
        return path.ladder
    kept = set(path.ladder[::2])
    if path.target_rate in path.ladder:
        kept.add(path.target_rate)
    return tuple(sorted(kept))


def climb(
    loadgen: Path,
    folder: Path,
    target: Target,
    path: HotPath,
    requests: Requests,
    args: argparse.Namespace,
    console: Console,
    workers: int,
) -> Ladder:
    ladder = Ladder(path, workers)
    warm = requests.render(path.key, max(20, int(path.ladder[0] * WARM_SECONDS)))
    run_step(loadgen, folder, target, path, path.ladder[0], warm, _warm_up(args))
    for rate in rungs(path, args.coarse):
        count = int(rate * step_seconds(rate, args) + 0.5)
        step = run_step(loadgen, folder, target, path, rate, requests.render(path.key, count), args)
        ladder.steps.append(step)
        console.print(
            f"  {workers}p {path.key:11} {rate:>6g}/s  p95 {step.p95:9.1f} ms  "
            f"answered {step.answered}/{count}  statuses {step.statuses}  "
            f"errors {step.errors} timeouts {step.timeouts}  generator CPU "
            f"{step.generator_cpu_share:.0%}  {'ok' if step.ok else 'BROKE the budget'}"
        )
        if step.failure:
            console.print(f"    first 5xx answer: {step.failure}")
        if step.replaced:
            console.print(f"    server processes gone during the step: {step.replaced}")
        if not step.ok:
            time.sleep(1.0)  # let the requests still queued in the server finish
            break
    return ladder


def climb_minimal(
    loadgen: Path,
    folder: Path,
    target: Target,
    answers: dict[str, bytes],
    args: argparse.Namespace,
    console: Console,
    workers: int,
    requests: Requests,
) -> Ladder:
    """The cache-hit ladder against bench/minimal_app.py with as many processes."""
    with minimal_server(args.redis, target.key, target.tenant_id, answers, workers) as served:
        base, port, pid = served
        minimal = replace(target, base_url=base, port=port, pid=pid)
        return climb(loadgen, folder, minimal, MINIMAL, requests, args, console, workers)


# Long enough for every API process to open its pool connections, prepare its statements
# and fill its caches: after half a second, checkout's first recorded step could still
# meet cold processes and break the budget at 10/s.
WARM_SECONDS = 3.0


def _warm_up(args: argparse.Namespace) -> argparse.Namespace:
    """The warm-up: `WARM_SECONDS` (20 requests at least) at the first rate, not recorded."""
    short = {"step_seconds": WARM_SECONDS, "drain_seconds": 2.0, "min_requests": 3}
    return argparse.Namespace(**{**vars(args), **short})


def fit_model(env: dict[str, str], tenant: str, args: argparse.Namespace, folder: Path) -> None:
    """bench/reco_serving.py's set-up in its own process: a synthetic shop into the catalog
    and the event store, then the tenant's model fitted from the database."""
    subprocess.run(
        [
            sys.executable,
            reco_serving.__file__,
            "--fit-tenant",
            tenant,
            "--products",
            str(args.products),
            "--events",
            str(args.events),
            "--fit-report",
            str(folder / "fit.json"),
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def warm_recommendations(base: str, key: str, tenant: str, users: list[str]) -> dict[str, bytes]:
    """Fill Mercato's recommendation cache for `users`; returns the answers by user."""
    answers = {}
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30) as http:
        for user in users:
            response = http.get(
                f"/api/v1/tenants/{tenant}/recommendations",
                params={"user_id": user, "placement": "home"},
            )
            response.raise_for_status()
            answers[user] = response.content
    return answers


@contextmanager
def minimal_server(
    redis_url: str, key: str, tenant: str, answers: dict[str, bytes], workers: int
) -> Iterator[tuple[str, int, int]]:
    """bench/minimal_app.py under `uvicorn --workers N`, serving Mercato's own answers
    from Redis: yields (base URL, port, pid)."""
    client = redis_lib.Redis.from_url(redis_url)
    keys = [minimal_app.cache_key(tenant, user, "home") for user in answers]
    client.mset(dict(zip(keys, answers.values(), strict=True)))
    port = free_port()
    env = {
        **os.environ,
        "MINIMAL_APP_KEYS": json.dumps({key: tenant}),
        "MINIMAL_APP_REDIS": redis_url,
    }
    command = [
        sys.executable, "-m", "uvicorn", "minimal_app:app", "--app-dir",
        str(Path(__file__).parent), "--port", str(port), "--workers", str(workers),
        "--loop", "uvloop", "--http", "httptools", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    probe = f"{base}/api/v1/tenants/{tenant}/recommendations"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                params = {"user_id": next(iter(answers)), "placement": "home"}
                if httpx.get(probe, params=params, headers={"X-API-Key": key}).is_success:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the minimal app did not start")
            time.sleep(0.2)
        yield base, port, process.pid
    finally:
        process.terminate()
        process.wait(30)
        client.delete(*keys, f"bench-minimal:{{{tenant}}}:requests")
        client.close()


def capacity_figures(ladders: list[Ladder]) -> list[Figure]:
    by = {(ladder.path.key, ladder.workers): ladder for ladder in ladders}
    figures = []
    for ladder in ladders:
        path, workers = ladder.path, ladder.workers
        best = ladder.capacity
        value = best.rate if best else 0.0
        health = by.get((HEALTH, workers))
        baseline = None
        # A baseline in the same unit only: batches per second are not requests per second.
        if path.key != HEALTH and path.unit == HEALTH_UNIT and health and health.capacity:
            baseline = (f"GET /health capacity, {processes(workers)}", health.capacity.rate)
        floor = by.get((MINIMAL.key, workers))
        if path.key == "reco_hit" and floor and floor.capacity:
            # The cache hit's fairest floor: the same answer from a minimal app.
            baseline = (f"minimal app capacity, {processes(workers)}", floor.capacity.rate)
        met = None
        target = f"p95 < {path.budget_ms:g} ms, no errors"
        if path.target_rate is not None and workers == 2:
            target = f">= {path.target_rate:,.0f} {path.unit} at p95 < {path.budget_ms:g} ms"
            met = value >= path.target_rate
        name = f"{path.label}: capacity at budget, {processes(workers)}"
        if best is None:
            name += f" (the first step, {path.ladder[0]:g} {path.unit}, broke it)"
        figures.append(
            figure(
                name,
                value,
                path.unit,
                baseline=baseline,
                target=target,
                met=met,
                percentiles=(best.p50, best.p95, best.p99) if best else None,
            )
        )
    first = min(ladder.workers for ladder in ladders)
    health = by.get((HEALTH, first))
    for ladder in ladders:
        if ladder.workers != first or ladder.path.key == HEALTH or not health:
            continue
        cpu, base = ladder.cpu_ms_per_request, health.cpu_ms_per_request
        authenticated = ladder.path.key == "tenant_get"
        figures.append(
            figure(
                f"{ladder.path.label}: server CPU per request, {processes(first)}",
                cpu,
                "ms",
                baseline=("GET /health CPU per request", base),
                target=f"<= {CPU_TARGET_RATIO:g}x /health" if authenticated else None,
                met=cpu <= CPU_TARGET_RATIO * base if authenticated and base else None,
            )
        )
    busiest = max(step.generator_cpu_share for ladder in ladders for step in ladder.steps)
    figures.append(
        figure(
            "load generator CPU, busiest step",
            100 * busiest,
            "% of a core",
            target="well under 100 % (not the limit)",
            met=busiest < 0.5,
        )
    )
    return figures


def curves(ladders: list[Ladder]) -> list[Series]:
    """p95 against offered rate; the minimal app shares the cache hit's panel."""
    labels = {MINIMAL.key: next(p.label for p in PATHS if p.key == "reco_hit")}
    return [
        Series(
            group=f"{labels.get(ladder.path.key, ladder.path.label)} "
            f"(p95 < {ladder.path.budget_ms:g} ms)",
            name=("minimal app, " if ladder.path is MINIMAL else "") + processes(ladder.workers),
            points=[(step.rate, max(step.p95, 0.01)) for step in ladder.steps],
            budget=ladder.path.budget_ms,
            x_unit=ladder.path.unit,
        )
        for ladder in ladders
    ]


def report(console: Console, ladders: list[Ladder]) -> None:
    workers = sorted({ladder.workers for ladder in ladders})
    table = Table(title="capacity at budget (open loop, loopback)")
    table.add_column("path")
    table.add_column("budget", justify="right")
    for n in workers:
        table.add_column(f"{n}p capacity", justify="right")
        table.add_column(f"{n}p p95 there", justify="right")
        table.add_column(f"{n}p CPU ms/req", justify="right")
    table.add_column("gen. CPU max", justify="right")
    by = {(ladder.path.key, ladder.workers): ladder for ladder in ladders}
    for path in (*PATHS, MINIMAL):
        row = [path.label, f"p95 < {path.budget_ms:g} ms"]
        shares = []
        present = False
        for n in workers:
            ladder = by.get((path.key, n))
            if ladder is None:
                row += ["-", "-", "-"]
                continue
            present = True
            best = ladder.capacity
            row += [
                f"{best.rate:,.0f} {path.unit}" if best else f"< {path.ladder[0]:g}",
                f"{best.p95:.1f}" if best else "-",
                f"{ladder.cpu_ms_per_request:.2f}",
            ]
            shares += [step.generator_cpu_share for step in ladder.steps]
        if present:
            console_row = [*row, f"{max(shares):.0%}" if shares else "-"]
            table.add_row(*console_row)
    console.print(table)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--step-seconds", type=float, default=8.0)
    parser.add_argument("--drain-seconds", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--min-requests", type=int, default=10, help="a step at a low rate lasts long enough"
    )
    parser.add_argument(
        "--coarse", action="store_true", help="every other rung of each ladder (quick mode)"
    )
    parser.add_argument("--only", nargs="+", choices=[p.key for p in PATHS])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--server", default=DEFAULT_SERVER)
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    parser.add_argument("--seed", type=int, default=7)
    add_json_option(parser)
    args = parser.parse_args()
    console = Console()
    paths = [p for p in PATHS if p.key == HEALTH or not args.only or p.key in args.only]
    folder = Path(tempfile.mkdtemp(prefix="mercato-capacity-"))
    loadgen = compile_loadgen(folder)
    budgets = "1000000000/minute;burst=100000000"
    settings = {
        "MERCATO_DATA_DIR": str(folder / "data"),
        "MERCATO_RATE_LIMIT_ENABLED": "true",
        "MERCATO_RATE_LIMITS": json.dumps({group: budgets for group in DEFAULT_LIMITS}),
        # 20 connections a process at most: two processes stay well inside a shared
        # PostgreSQL's max_connections (a refused connection would read as a 503).
        "MERCATO_DB_POOL_SIZE": "16",
        "MERCATO_DB_MAX_OVERFLOW": "4",
    }
    rng = random.Random(args.seed)
    hot_users = [f"u{n}" for n in range(0, 350, 7)]
    ladders: list[Ladder] = []
    tenant = key = ""
    try:
        with scratch_database(args.server) as dsn:
            for workers in args.workers:
                async with api_server(dsn, args.redis, workers=workers, settings=settings) as (
                    base,
                    port,
                    pid,
                ):
                    if not tenant:
                        tenant, key = await sign_up_tenant(base)
                        env = {
                            **os.environ,
                            "MERCATO_DATABASE_URL": dsn,
                            "MERCATO_REDIS_URL": args.redis,
                            **settings,
                        }
                        await asyncio.to_thread(fit_model, env, tenant, args, folder)
                    target = Target(base, port, tenant, key, dsn, pid)
                    if any(p.key == "checkout" for p in paths) and workers == args.workers[0]:
                        await asyncio.to_thread(_setup_catalog, target)
                    if workers == args.workers[0]:  # statistics, as autovacuum keeps them
                        await asyncio.to_thread(_analyze, target)
                    answers = await asyncio.to_thread(
                        warm_recommendations, base, key, tenant, hot_users
                    )
                    requests = Requests(target, hot_users, rng)
                    requests.counter = 10_000_000 * workers
                    for path in paths:
                        ladders.append(
                            await asyncio.to_thread(
                                climb,
                                loadgen,
                                folder,
                                target,
                                path,
                                requests,
                                args,
                                console,
                                workers,
                            )
                        )
                    if any(p.key == "reco_hit" for p in paths):
                        ladders.append(
                            await asyncio.to_thread(
                                climb_minimal, loadgen, folder, target, answers, args, console,
                                workers, Requests(target, hot_users, rng),
                            )
                        )  # fmt: skip
            if any(p.key == "checkout" for p in paths):
                on_hand, reserved, drift = _invariant(target)
                console.print(
                    f"checkout invariant: hot product {reserved}/{on_hand} reserved, "
                    f"{drift} stock rows off their ledger"
                )
                if drift:
                    raise SystemExit("the stock ledger disagrees with the stock rows")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report(console, ladders)
    load = os.getloadavg()
    console.print(f"load average at the end: {load[0]:.2f} on {os.cpu_count()} cores")
    write_json(args.json, capacity_figures(ladders), series=curves(ladders))


if __name__ == "__main__":
    asyncio.run(main())

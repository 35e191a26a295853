"""A bounded loopback load generator: a few concurrent clients replaying a request mix.

It runs in a thread with its own event loop, so a test can break things (stop Redis,
restart PostgreSQL) while the load goes on, and stops by itself after `max_requests`
requests or `max_seconds`, whichever comes first. Every request becomes an `Outcome`;
writes the server acknowledged (2xx) carry the key that must be readable afterwards.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import httpx

from tests.factories import PASSWORD
from tests.hardening.merchant import Merchant

REQUEST_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Outcome:
    operation: str
    started_at: float  # time.monotonic()
    elapsed_s: float
    status: int | None  # None: no HTTP answer (refused, reset, timed out)
    content_type: str = ""
    problem: dict[str, object] | None = None
    error: str | None = None
    written: str | None = None  # the key of an acknowledged write

    @property
    def is_problem_json(self) -> bool:
        return self.content_type.startswith("application/problem+json") and bool(
            self.problem and {"type", "title", "status"} <= self.problem.keys()
        )


Operation = Callable[[httpx.AsyncClient, Merchant, int], Awaitable[tuple[httpx.Response, str]]]


async def read_tenant(http: httpx.AsyncClient, merchant: Merchant, _n: int) -> tuple:
    return await http.get(merchant.tenant_path, headers=merchant.headers), ""


async def list_locations_with_key(http: httpx.AsyncClient, merchant: Merchant, _n: int) -> tuple:
    response = await http.get(
        f"{merchant.tenant_path}/locations", headers={"X-API-Key": merchant.api_key}
    )
    return response, ""


async def put_location(http: httpx.AsyncClient, merchant: Merchant, n: int) -> tuple:
    code = f"load-{n}-{secrets.token_hex(3)}"
    response = await http.put(
        f"{merchant.tenant_path}/locations/{code}",
        json={"name": f"Load store {n}", "kind": "store"},
        headers=merchant.headers,
    )
    return response, f"location:{code}"


async def create_webhook(http: httpx.AsyncClient, merchant: Merchant, n: int) -> tuple:
    # Subscribed to an event nothing emits here, so no delivery is ever attempted.
    response = await http.post(
        f"{merchant.tenant_path}/webhooks",
        json={"url": f"https://hooks.shop.example/{n}", "event_types": ["order.created"]},
        headers=merchant.headers,
    )
    written = f"webhook:{response.json()['id']}" if response.status_code == 201 else ""
    return response, written


async def log_in(http: httpx.AsyncClient, merchant: Merchant, _n: int) -> tuple:
    response = await http.post(
        "/api/v1/auth/login", json={"email": merchant.email, "password": PASSWORD}
    )
    return response, ""


DEFAULT_MIX: Sequence[Operation] = (
    read_tenant,
    list_locations_with_key,
    put_location,
    read_tenant,
    create_webhook,
    log_in,
)


@dataclass
class LoadGenerator:
    merchant: Merchant
    operations: Sequence[Operation] = DEFAULT_MIX
    concurrency: int = 4
    max_requests: int = 20_000
    max_seconds: float = 120.0
    pause_s: float = 0.01
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> LoadGenerator:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> list[Outcome]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=REQUEST_TIMEOUT_S + 10)
        return self.outcomes

    def since(self, started_at: float) -> list[Outcome]:
        return [o for o in list(self.outcomes) if o.started_at >= started_at]

    async def _run(self) -> None:
        counter = itertools.count()
        deadline = time.monotonic() + self.max_seconds
        limits = httpx.Limits(max_connections=self.concurrency)
        async with httpx.AsyncClient(
            base_url=self.merchant.base_url, timeout=REQUEST_TIMEOUT_S, limits=limits
        ) as http:

            async def client_loop() -> None:
                while not self._stop.is_set() and time.monotonic() < deadline:
                    n = next(counter)
                    if n >= self.max_requests:
                        return
                    operation = self.operations[n % len(self.operations)]
                    self.outcomes.append(await _attempt(http, self.merchant, operation, n))
                    await asyncio.sleep(self.pause_s)

            await asyncio.gather(*(client_loop() for _ in range(self.concurrency)))


async def _attempt(
    http: httpx.AsyncClient, merchant: Merchant, operation: Operation, n: int
) -> Outcome:
    started = time.monotonic()
    name = operation.__name__
    try:
        response, written = await operation(http, merchant, n)
    except (httpx.HTTPError, ValueError) as exc:
        return Outcome(name, started, time.monotonic() - started, None, error=repr(exc))
    content_type = response.headers.get("content-type", "")
    problem = response.json() if content_type.startswith("application/problem+json") else None
    return Outcome(
        name,
        started,
        time.monotonic() - started,
        response.status_code,
        content_type,
        problem,
        written=written if 200 <= response.status_code < 300 and written else None,
    )

"""How fast the shop simulator generates events, next to the cost of building plain dicts.

    .venv/bin/python bench/simulate.py [--events 1000000] [--users 25000] [--days 90]

The baseline builds the same number of dicts of the same size (one f-string id each),
the least any generator yielding event dicts has to do; the ratio says how much the
simulation itself costs on top of that.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from itertools import islice

from rich.console import Console
from rich.table import Table

from mercato.simulation import generate_catalog, generate_locations, simulate

END = datetime(2025, 6, 1, tzinfo=UTC)


def simulated(events: int, users: int, days: int) -> tuple[int, float]:
    catalog = generate_catalog(products=500, seed=42, until=END)
    started = time.perf_counter()
    stream = simulate(
        catalog=catalog,
        locations=generate_locations(42),
        days=days,
        users=users,
        seed=42,
        end=END,
    )
    produced = sum(1 for _ in islice(stream, events))
    return produced, time.perf_counter() - started


def plain_dicts(events: int) -> float:
    started = time.perf_counter()
    kept = None
    for n in range(events):
        kept = {
            "type": "view_item",
            "user_id": "u000001",
            "session_id": "u000001-1748736000",
            "location_code": "HAM-01",
            "product_id": "SKU-000001",
            "price": "19.99",
            "currency": "EUR",
            "event_id": f"sim42-u000001-1748736000-{n}",
            "timestamp": "2025-06-01T00:00:00.000Z",
        }
    assert kept is not None
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=25_000)
    parser.add_argument("--days", type=int, default=90)
    options = parser.parse_args()
    produced, simulation_seconds = simulated(options.events, options.users, options.days)
    baseline_seconds = plain_dicts(produced)
    table = Table(title=f"shop simulator, {produced:,} events")
    for column in ("what", "seconds", "events/s", "vs baseline"):
        table.add_column(column, justify="right")
    table.add_row(
        "simulate()",
        f"{simulation_seconds:.2f}",
        f"{produced / simulation_seconds:,.0f}",
        f"{simulation_seconds / baseline_seconds:.1f}x the time",
    )
    table.add_row(
        "baseline: plain dicts",
        f"{baseline_seconds:.2f}",
        f"{produced / baseline_seconds:,.0f}",
        "1.0x",
    )
    Console().print(table)
    if produced < options.events:
        Console().print(f"[yellow]only {produced:,} events: raise --users or --days")


if __name__ == "__main__":
    main()

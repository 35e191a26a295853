"""Recommendation model fit time and query latency on a synthetic shop.

    .venv/bin/python bench/reco_fit.py [--products 100000] [--events 1000000]

The production fit (`fit_to_file`, what the worker runs: choosing the blend's weights on
the latest visits, fitting every strategy, saving the model, then the offline scores the
models API shows) is timed whole against the budget of 60 s at 1M events.

Each figure is printed next to an in-run baseline on the same data: fit time against
`implicit` ALS with its defaults on the same shoppers x products matrix, query latency
against ranking all products by ALS factors (what serving plain ALS costs per query).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
from results import Figure, add_json_option, figure, write_json
from rich.console import Console
from rich.table import Table
from synthetic_shop import synthetic_shop

from mercato.modules.recommendations.baselines import AlsBaseline, event_counts
from mercato.modules.recommendations.event_log import CatalogTable, EventLog
from mercato.modules.recommendations.fitting import fit_to_file
from mercato.modules.recommendations.interactions import InteractionData, build_interactions
from mercato.modules.recommendations.strategies import (
    STRATEGIES,
    AutoStrategy,
    Strategy,
    create_strategy,
)
from mercato.modules.recommendations.strategies.taste_factors import available_cores

BENCH = {
    "order": 50,
    "quick": ["--products", "10000", "--events", "100000", "--queries", "500"],
    "full": ["--products", "100000", "--events", "1000000"],
}
T = TypeVar("T")


def timed(action: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def percentiles_ms(query: Callable[[int], object], count: int) -> tuple[float, float]:
    samples = []
    for number in range(count):
        started = time.perf_counter()
        query(number)
        samples.append((time.perf_counter() - started) * 1000.0)
    return float(np.percentile(samples, 50)), float(np.percentile(samples, 95))


def fit_table(
    data: InteractionData, build_s: float, figures: list[Figure]
) -> tuple[AutoStrategy, AlsBaseline, float, Table]:
    table = Table(title="fit (seconds)")
    for column in ("step", "ours", "implicit ALS defaults", "ours / ALS"):
        table.add_column(column, justify="left" if column == "step" else "right")
    table.add_row("build interactions", f"{build_s:.2f}", "", "")
    for name in STRATEGIES:
        if name != AutoStrategy.name:
            _, seconds = timed(lambda name=name: create_strategy(name).fit(data))
            table.add_row(f"fit {name} alone", f"{seconds:.2f}", "", "")
    auto = AutoStrategy()
    _, auto_s = timed(lambda: auto.fit(data))
    als, als_s = timed(lambda: AlsBaseline(data, event_counts(data)))
    table.add_row(
        "fit auto (every strategy)", f"{auto_s:.2f}", f"{als_s:.2f}", f"{auto_s / als_s:.2f}x"
    )
    total = build_s + auto_s
    table.add_row("build + fit auto", f"{total:.2f}", f"{als_s:.2f}", f"{total / als_s:.2f}x")
    baseline = ("implicit ALS fit, defaults", als_s)
    figures.append(figure("fit auto (every strategy)", auto_s, "s", baseline=baseline))
    figures.append(figure("build interactions + fit auto", total, "s", baseline=baseline))
    return auto, als, als_s, table


def production_fit(
    events: EventLog, catalog: CatalogTable, als_s: float, figures: list[Figure]
) -> Table:
    """`fit_to_file` as the worker runs it, timed whole and without the offline scores."""
    with tempfile.TemporaryDirectory() as folder:
        fitted, total = timed(lambda: fit_to_file(events, catalog, Path(folder) / "model.npz"))
    baseline = ("implicit ALS fit, defaults", als_s)
    figures.append(
        figure(
            "production fit: weight choice + fit + save",
            fitted.seconds,
            "s",
            baseline=baseline,
        )
    )
    figures.append(
        figure(
            "production fit with the offline scores (what a fit job costs)",
            total,
            "s",
            baseline=baseline,
            target="< 60 s",
            met=total < 60,
        )
    )
    table = Table(title="production fit (seconds)")
    for column in ("step", "seconds"):
        table.add_column(column, justify="left" if column == "step" else "right")
    table.add_row("weight choice + fit + save", f"{fitted.seconds:.2f}")
    table.add_row("offline scores", f"{total - fitted.seconds:.2f}")
    table.add_row("whole fit job (target < 60 s)", f"{total:.2f}")
    return table


def latency_table(
    data: InteractionData, auto: AutoStrategy, als: AlsBaseline, queries: int, figures: list[Figure]
) -> Table:
    rng = np.random.default_rng(1)
    event_rows = rng.integers(1, len(data.events), queries)
    on_screen = data.events.product[event_rows]
    before = data.events.product[event_rows - 1]
    shoppers = rng.integers(0, data.user_count, queries)
    ids, user_ids = data.products.product_id, data.user_ids

    def product_page(strategy: Strategy) -> Callable[[int], object]:
        return lambda n: strategy.recommend(
            product_id=str(ids[on_screen[n]]), recently_viewed=[str(ids[before[n]])], k=10
        )

    def for_you(strategy: Strategy) -> Callable[[int], object]:
        return lambda n: strategy.recommend(user_id=str(user_ids[shoppers[n]]), k=10)

    als_page = percentiles_ms(lambda n: als.similar(int(on_screen[n]), 10), queries)
    als_user = percentiles_ms(lambda n: als.for_user(int(shoppers[n]), 10), queries)
    table = Table(title=f"recommend, k=10 (ms over {queries:,} queries)")
    for column in ("query", "ours p50", "ours p95", "ALS p50", "ALS p95", "p95 ours / ALS"):
        table.add_column(column, justify="left" if column == "query" else "right")
    strategies = [part for part in auto.parts if part.name in STRATEGIES]
    for strategy in (*strategies, auto):
        for label, query, reference in (
            ("product page", product_page(strategy), als_page),
            ("for you", for_you(strategy), als_user),
        ):
            p50, p95 = percentiles_ms(query, queries)
            figures.append(
                figure(
                    f"{strategy.name}, {label}, k=10 p95",
                    p95,
                    "ms",
                    baseline=("ALS ranking of all products p95", reference[1]),
                )
            )
            table.add_row(
                f"{strategy.name}, {label}",
                f"{p50:.3f}",
                f"{p95:.3f}",
                f"{reference[0]:.3f}",
                f"{reference[1]:.3f}",
                f"{p95 / reference[1]:.2f}x",
            )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description="Recommendation fit time and latency.")
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2_000)
    add_json_option(parser)
    options = parser.parse_args()
    console = Console()
    events, catalog = synthetic_shop(options.products, options.events)
    data, build_s = timed(lambda: build_interactions(events, catalog))
    console.print(
        f"synthetic shop: {len(catalog):,} products, {len(events):,} events, "
        f"{data.user_count:,} shoppers; {available_cores()} cores"
    )
    figures: list[Figure] = []
    auto, als, als_s, fits = fit_table(data, build_s, figures)
    console.print(fits)
    console.print(production_fit(events, catalog, als_s, figures))
    console.print(latency_table(data, auto, als, options.queries, figures))
    write_json(options.json, figures)


if __name__ == "__main__":
    main()

"""Recommendation model fit time and query latency on a synthetic shop.

    .venv/bin/python bench/reco_fit.py [--products 100000] [--events 1000000]

Each figure is printed next to an in-run baseline on the same data: fit time against
`implicit` ALS with its defaults on the same shoppers x products matrix, query latency
against ranking all products by ALS factors (what serving plain ALS costs per query).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from rich.console import Console
from rich.table import Table
from synthetic_shop import synthetic_shop

from mercato.modules.recommendations.baselines import AlsBaseline, event_counts
from mercato.modules.recommendations.interactions import build_interactions
from mercato.modules.recommendations.strategies import AutoStrategy, Strategy
from mercato.modules.recommendations.strategies.taste_factors import available_cores


def seconds(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def latencies_ms(query: Callable[[int], object], count: int) -> tuple[float, float]:
    samples = []
    for number in range(count):
        started = time.perf_counter()
        query(number)
        samples.append((time.perf_counter() - started) * 1000.0)
    return float(np.percentile(samples, 50)), float(np.percentile(samples, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2_000)
    options = parser.parse_args()
    console = Console()
    events, catalog = synthetic_shop(options.products, options.events)
    console.print(
        f"synthetic shop: {len(catalog):,} products, {len(events):,} events, "
        f"{available_cores()} cores"
    )
    built: dict[str, object] = {}
    build_s = seconds(lambda: built.update(data=build_interactions(events, catalog)))
    data = built["data"]
    assert not isinstance(data, type)
    from mercato.modules.recommendations.interactions import InteractionData

    assert isinstance(data, InteractionData)
    auto = AutoStrategy()
    auto.attach(*_snapshots(data))
    parts: dict[str, float] = {}
    for part in auto.parts:
        parts[part.name] = seconds(lambda part=part: part._fit(data))
    full_auto = AutoStrategy()
    auto_s = seconds(lambda: full_auto.fit(data))
    baseline: dict[str, AlsBaseline] = {}
    als_s = seconds(lambda: baseline.update(als=AlsBaseline(data, event_counts(data))))
    als = baseline["als"]

    fit = Table(title="fit (seconds)")
    for column in ("step", "ours", "implicit ALS defaults", "ratio"):
        fit.add_column(column, justify="right" if column != "step" else "left")
    fit.add_row("build interactions", f"{build_s:.2f}", "", "")
    for name, taken in parts.items():
        fit.add_row(f"fit {name}", f"{taken:.2f}", "", "")
    fit.add_row(
        "fit auto (all, one pass)", f"{auto_s:.2f}", f"{als_s:.2f}", f"{auto_s / als_s:.2f}x"
    )
    fit.add_row(
        "build + fit auto",
        f"{build_s + auto_s:.2f}",
        f"{als_s:.2f}",
        f"{(build_s + auto_s) / als_s:.2f}x",
    )
    console.print(fit)

    rng = np.random.default_rng(1)
    viewed = data.products.product_id[data.events.product]
    product_pages = rng.integers(0, viewed.size, options.queries)
    shoppers = rng.integers(0, data.user_count, options.queries)
    user_ids = data.user_ids

    def product_page(strategy: Strategy) -> Callable[[int], object]:
        return lambda n: strategy.recommend(
            product_id=str(viewed[product_pages[n]]),
            recently_viewed=[str(viewed[max(product_pages[n] - 1, 0)])],
            k=10,
        )

    def for_you(strategy: Strategy) -> Callable[[int], object]:
        return lambda n: strategy.recommend(user_id=str(user_ids[shoppers[n]]), k=10)

    product_index = data.events.product
    als_page = latencies_ms(
        lambda n: als.similar(int(product_index[product_pages[n]]), 10), options.queries
    )
    als_user = latencies_ms(lambda n: als.for_user(int(shoppers[n]), 10), options.queries)
    latency = Table(
        title=f"recommend latency, k=10 (ms, p50 / p95 over {options.queries:,} queries)"
    )
    for column in ("query", "ours p50", "ours p95", "plain ALS p50", "plain ALS p95", "ratio p95"):
        latency.add_column(column, justify="right" if column != "query" else "left")
    for strategy in (*full_auto.parts[:-1], full_auto):
        for label, query, reference in (
            ("product page", product_page(strategy), als_page),
            ("for you", for_you(strategy), als_user),
        ):
            p50, p95 = latencies_ms(query, options.queries)
            latency.add_row(
                f"{strategy.name}: {label}",
                f"{p50:.3f}",
                f"{p95:.3f}",
                f"{reference[0]:.3f}",
                f"{reference[1]:.3f}",
                f"{p95 / reference[1]:.2f}x",
            )
    console.print(latency)


def _snapshots(data: object) -> tuple:  # type: ignore[type-arg]
    from mercato.modules.recommendations.snapshot import CatalogSnapshot, ShopperHistory

    return CatalogSnapshot.from_data(data), ShopperHistory.from_data(data)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()

"""Next-item evaluation inside sessions (the protocol of `shared/data/README.md`).

For each test session and each position i ≥ 1, the method sees the clicks before i and
ranks training products; the hit is the click at i. HR@K is the share of positions whose
hit is in the top K, MRR@K the mean reciprocal rank (0 outside the top K); targets never
seen in training count as misses.

Two readings are reported. `all_clicks` is the protocol as published: every training
product may be ranked, including the one just clicked (a quarter of YooChoose clicks
repeat the previous one). `product_page` is what a product page shows: the product on
screen is never recommended, and positions that merely repeat it are skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from mercato.modules.recommendations.baselines import AlsBaseline, MostPopular, visit_matrix
from mercato.modules.recommendations.event_log import EventLog
from mercato.modules.recommendations.interactions import (
    InteractionData,
    InteractionSettings,
    build_interactions,
)
from mercato.modules.recommendations.metrics import RankingTally
from mercato.modules.recommendations.strategies import STRATEGIES, AutoStrategy, Strategy

Ranker = Callable[["SessionPosition", int, bool], list[str]]


@dataclass(frozen=True)
class SessionPosition:
    visitor: str
    earlier: list[str]
    """Clicks of the session before this position, oldest first (never empty)."""
    target: str


@dataclass(frozen=True)
class NextItemScores:
    method: str
    hit_rate: float
    mrr: float
    coverage: float
    queries: int
    milliseconds_per_query: float


@dataclass(frozen=True)
class NextItemReport:
    dataset: str
    k: int
    train_events: int
    train_products: int
    test_sessions: int
    positions: int
    unseen_targets: int
    product_page_strategy: str
    fit_seconds: dict[str, float]
    all_clicks: list[NextItemScores] = field(default_factory=list)
    product_page: list[NextItemScores] = field(default_factory=list)


def session_positions(test: EventLog) -> Iterator[SessionPosition]:
    """Every (clicks so far, next click) pair of every test session, in time order."""
    order = np.lexsort((test.timestamp, test.session_id))
    sessions, products = test.session_id[order].tolist(), test.product_id[order].tolist()
    visitors = test.user_id[order].tolist()
    start = 0
    for end in range(1, len(sessions) + 1):
        if end < len(sessions) and sessions[end] == sessions[start]:
            continue
        for position in range(start + 1, end):
            yield SessionPosition(visitors[position], products[start:position], products[position])
        start = end


def strategy_ranker(strategy: Strategy) -> Ranker:
    def rank(query: SessionPosition, k: int, include_on_screen: bool) -> list[str]:
        found = strategy.recommend(
            user_id=query.visitor,
            product_id=query.earlier[-1],
            recently_viewed=query.earlier[:-1],
            k=k,
            include_context_product=include_on_screen,
        )
        return [item.product_id for item in found]

    return rank


def popularity_ranker(popular: MostPopular, data: InteractionData) -> Ranker:
    ids = data.products.product_id

    def rank(query: SessionPosition, k: int, include_on_screen: bool) -> list[str]:
        if include_on_screen:
            return popular.top(k)
        on_screen = np.flatnonzero(ids == query.earlier[-1])
        return popular.top(k, blocked=on_screen.astype(np.int64))

    return rank


def als_ranker(als: AlsBaseline, data: InteractionData) -> Ranker:
    """Cosine of ALS item factors to the session's last click."""
    ids = data.products.product_id

    def rank(query: SessionPosition, k: int, include_on_screen: bool) -> list[str]:
        found = np.searchsorted(ids, query.earlier[-1])
        known = found < ids.size and ids[found] == query.earlier[-1]
        return als.similar(int(found) if known else -1, k, include_itself=include_on_screen)

    return rank


def _score(
    method: str,
    rank: Ranker,
    queries: list[SessionPosition],
    k: int,
    catalog_size: int,
    *,
    include_on_screen: bool,
) -> NextItemScores:
    tally = RankingTally(k=k, catalog_size=catalog_size)
    started = time.perf_counter()
    for query in queries:
        tally.add(rank(query, k, include_on_screen), {query.target})
    elapsed = time.perf_counter() - started
    return NextItemScores(
        method=method,
        hit_rate=tally.hit_rate,
        mrr=tally.mrr,
        coverage=tally.coverage,
        queries=tally.queries,
        milliseconds_per_query=1000.0 * elapsed / max(tally.queries, 1),
    )


def evaluate_next_item(
    train: EventLog,
    test: EventLog,
    *,
    k: int = 20,
    dataset: str = "sessions",
    settings: InteractionSettings | None = None,
    als_factors: int = 64,
    als_iterations: int = 15,
) -> NextItemReport:
    """Fit every strategy (through `auto`, which holds them) and both baselines on
    `train`, then score next-click prediction on `test` sessions."""
    data = build_interactions(train, settings=settings)
    fit_seconds: dict[str, float] = {}
    started = time.perf_counter()
    auto = AutoStrategy()
    auto.fit(data)
    fit_seconds["auto (all strategies)"] = time.perf_counter() - started
    started = time.perf_counter()
    als = AlsBaseline(data, visit_matrix(data), factors=als_factors, iterations=als_iterations)
    fit_seconds[AlsBaseline.name] = time.perf_counter() - started
    rankers: dict[str, Ranker] = {
        part.name: strategy_ranker(part) for part in auto.parts if part.name in STRATEGIES
    }
    rankers[auto.name] = strategy_ranker(auto)
    rankers[MostPopular.name] = popularity_ranker(MostPopular(data), data)
    rankers[AlsBaseline.name] = als_ranker(als, data)
    queries = list(session_positions(test))
    repeats_skipped = [query for query in queries if query.target != query.earlier[-1]]
    known = set(data.products.product_id.tolist())
    catalog_size = data.product_count
    return NextItemReport(
        dataset=dataset,
        k=k,
        train_events=len(train),
        train_products=catalog_size,
        test_sessions=int(np.unique(test.session_id).size),
        positions=len(queries),
        unseen_targets=sum(query.target not in known for query in queries),
        product_page_strategy=auto.collaborative.name,
        fit_seconds=fit_seconds,
        all_clicks=[
            _score(name, rank, queries, k, catalog_size, include_on_screen=True)
            for name, rank in rankers.items()
        ],
        product_page=[
            _score(name, rank, repeats_skipped, k, catalog_size, include_on_screen=False)
            for name, rank in rankers.items()
        ],
    )

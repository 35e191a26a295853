"""Next-item evaluation inside sessions (the protocol of `shared/data/README.md`).

For each test session and each position i ≥ 1, the method sees the clicks before i and
ranks training products; the hit is the click at i. HR@K is the share of positions whose
hit is in the top K, MRR@K the mean reciprocal rank (0 outside the top K); targets never
seen in training count as misses.

Two readings are reported. `all_clicks` is the protocol as published: every training
product may be ranked, including the one just clicked (a quarter of YooChoose clicks
repeat the previous one). `product_page` is what a product page shows: the product on
screen is never recommended, and positions that merely repeat it are skipped. In both,
strategies may rank what the shopper bought before (`include_purchased`), as the
baselines do: every method gets the same candidates (hiding past purchases is a choice
of the request, not of the method).

Every figure comes with a 95 % interval from 1,000 bootstrap resamples of the test
sessions, and `auto` is compared with each baseline and the best other method on the
same resamples: a difference whose interval holds 0 is reported as within noise.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mercato.modules.recommendations.auto_tuning import AutoChoice, TuningSettings, fit_auto
from mercato.modules.recommendations.baselines import AlsBaseline, MostPopular, visit_matrix
from mercato.modules.recommendations.bootstrap import (
    Difference,
    FloatArray,
    difference,
    interval,
    resampled_means,
    session_totals,
)
from mercato.modules.recommendations.event_log import EventLog
from mercato.modules.recommendations.interactions import InteractionData, InteractionSettings
from mercato.modules.recommendations.metrics import RankingTally, reciprocal_rank
from mercato.modules.recommendations.sessions import (
    SessionPosition,
    interest_events,
    session_positions,
    split_visits,
    visit_keys,
)
from mercato.modules.recommendations.strategies import STRATEGIES, Strategy

Ranker = Callable[[SessionPosition, int, bool], list[str]]
BASELINES = (MostPopular.name, AlsBaseline.name)


@dataclass(frozen=True)
class NextItemScores:
    method: str
    hit_rate: float
    mrr: float
    coverage: float
    queries: int
    milliseconds_per_query: float
    hit_rate_interval: tuple[float, float] = (0.0, 0.0)
    mrr_interval: tuple[float, float] = (0.0, 0.0)
    """95 % bootstrap intervals over test sessions."""


@dataclass(frozen=True)
class NextItemReport:
    dataset: str
    k: int
    train_events: int
    train_products: int
    test_sessions: int
    positions: int
    unseen_targets: int
    fit_seconds: dict[str, float]
    all_clicks: list[NextItemScores] = field(default_factory=list)
    product_page: list[NextItemScores] = field(default_factory=list)
    all_clicks_differences: list[Difference] = field(default_factory=list)
    product_page_differences: list[Difference] = field(default_factory=list)
    """`auto` minus the two baselines and the best other method, paired bootstrap."""
    auto_choice: AutoChoice | None = None


def strategy_ranker(strategy: Strategy) -> Ranker:
    def rank(query: SessionPosition, k: int, include_on_screen: bool) -> list[str]:
        found = strategy.recommend(
            user_id=query.visitor,
            product_id=query.earlier[-1],
            recently_viewed=query.earlier[:-1],
            k=k,
            include_purchased=True,
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


@dataclass
class Scored:
    """One method's list quality per query, kept for the bootstrap."""

    scores: NextItemScores
    hits: FloatArray
    ranks: FloatArray


def _score(
    method: str,
    rank: Ranker,
    queries: list[SessionPosition],
    k: int,
    catalog_size: int,
    *,
    include_on_screen: bool,
) -> Scored:
    tally = RankingTally(k=k, catalog_size=catalog_size)
    ranks = np.zeros(len(queries))
    started = time.perf_counter()
    for number, query in enumerate(queries):
        found = rank(query, k, include_on_screen)
        tally.add(found, {query.target})
        ranks[number] = reciprocal_rank(found, {query.target}, k)
    elapsed = time.perf_counter() - started
    scores = NextItemScores(
        method=method,
        hit_rate=tally.hit_rate,
        mrr=tally.mrr,
        coverage=tally.coverage,
        queries=tally.queries,
        milliseconds_per_query=1000.0 * elapsed / max(tally.queries, 1),
    )
    return Scored(scores, (ranks > 0).astype(np.float64), ranks)


def with_intervals(
    scored: list[Scored], sessions: list[int], k: int, *, resamples: int, seed: int
) -> tuple[list[NextItemScores], list[Difference]]:
    """Each method's 95 % intervals, and `auto` minus the baselines and the best other
    method (by MRR) with the interval of the difference, all on the same resamples."""
    if not sessions:
        return [item.scores for item in scored], []
    session = np.asarray(sessions, dtype=np.int64)
    count = int(session.max()) + 1
    columns = [
        session_totals(values, session, count)
        for item in scored
        for values in (item.hits, item.ranks)
    ]
    sizes = np.bincount(session, minlength=count).astype(np.float64)
    means = resampled_means(np.stack(columns, axis=1), sizes, resamples=resamples, seed=seed)
    rows = []
    for number, item in enumerate(scored):
        rows.append(
            dataclasses.replace(
                item.scores,
                hit_rate_interval=interval(means[:, 2 * number]),
                mrr_interval=interval(means[:, 2 * number + 1]),
            )
        )
    names = [item.scores.method for item in scored]
    if "auto" not in names:
        return rows, []
    ours = names.index("auto")
    others = [number for number, name in enumerate(names) if name != "auto"]
    best = max(others, key=lambda number: (rows[number].mrr, rows[number].hit_rate))
    against = [names.index(name) for name in BASELINES if name in names]
    against += [best] if best not in against else []
    differences = []
    for other in against:
        for offset, measure, point in (
            (0, f"HR@{k}", rows[ours].hit_rate - rows[other].hit_rate),
            (1, f"MRR@{k}", rows[ours].mrr - rows[other].mrr),
        ):
            samples = means[:, 2 * ours + offset] - means[:, 2 * other + offset]
            differences.append(difference("auto", names[other], measure, point, samples))
    return rows, differences


def evaluate_next_item(
    train: EventLog,
    test: EventLog,
    *,
    k: int = 20,
    dataset: str = "sessions",
    settings: InteractionSettings | None = None,
    tuning: TuningSettings | None = None,
    als_factors: int = 64,
    als_iterations: int = 15,
    resamples: int = 1_000,
    seed: int = 42,
) -> NextItemReport:
    """Fit `auto` as a tenant's fit does (weights chosen on the latest part of `train`),
    every single strategy (which `auto` holds) and both baselines on `train`, then score
    next-click prediction on `test` sessions with bootstrap intervals."""
    fit_seconds: dict[str, float] = {}
    started = time.perf_counter()
    auto, data, choice = fit_auto(train, settings=tuning, interactions=settings)
    fit_seconds["auto (choice of weights + all strategies)"] = time.perf_counter() - started
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
    readings = []
    for chosen, on_screen in ((queries, True), (repeats_skipped, False)):
        scored = [
            _score(name, rank, chosen, k, catalog_size, include_on_screen=on_screen)
            for name, rank in rankers.items()
        ]
        sessions = [query.session for query in chosen]
        readings.append(with_intervals(scored, sessions, k, resamples=resamples, seed=seed))
    (all_clicks, all_differences), (product_page, page_differences) = readings
    return NextItemReport(
        dataset=dataset,
        k=k,
        train_events=len(train),
        train_products=catalog_size,
        test_sessions=int(np.unique(visit_keys(test)).size),
        positions=len(queries),
        unseen_targets=sum(query.target not in known for query in queries),
        fit_seconds=fit_seconds,
        all_clicks=all_clicks,
        product_page=product_page,
        all_clicks_differences=all_differences,
        product_page_differences=page_differences,
        auto_choice=choice,
    )


def evaluate_sessions(
    events: EventLog, *, holdout_days: float = 7.0, k: int = 20, dataset: str = "sessions"
) -> NextItemReport:
    """Next-click evaluation of any event log: the visits that started in the last
    `holdout_days` (at most the last fifth of the span) are the test sessions."""
    train, test, _ = split_visits(interest_events(events), holdout_days)
    return evaluate_next_item(train, test, k=k, dataset=dataset)

"""Offline evaluation on a temporal split: fit on everything before the last N days,
then check how well each strategy predicts what shoppers went on to touch.

Works on any event list (a tenant's tracking events, a simulator's output), so the only
thing a new data source needs is a loader that returns an `EventLog` and a
`CatalogTable`. Each evaluated shopper was seen in training and interacted in the
held-out days with products that were on sale and that they had not bought before
(strategies never recommend those by default).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import scipy.sparse as sp

from mercato.modules.recommendations.baselines import AlsBaseline, MostPopular, event_counts
from mercato.modules.recommendations.event_log import CatalogTable, EventLog, StrArray
from mercato.modules.recommendations.interactions import (
    SECONDS_PER_DAY,
    InteractionData,
    InteractionSettings,
    build_interactions,
    positions,
)
from mercato.modules.recommendations.metrics import RankingTally
from mercato.modules.recommendations.strategies import STRATEGIES, AutoStrategy, Strategy


class NotEnoughEventsError(ValueError):
    """The split leaves no training events or no shopper to evaluate."""


@dataclass(frozen=True)
class HoldoutScores:
    method: str
    hit_rate: float
    ndcg: float
    map: float
    coverage: float
    users: int
    milliseconds_per_query: float


@dataclass(frozen=True)
class HoldoutReport:
    dataset: str
    k: int
    holdout_days: float
    cutoff: float
    train_events: int
    test_events: int
    users: int
    products: int
    fit_seconds: dict[str, float]
    scores: list[HoldoutScores] = field(default_factory=list)


def split_by_time(events: EventLog, holdout_days: float) -> tuple[EventLog, EventLog, float]:
    """Events before / from `holdout_days` before the newest event, and that cutoff."""
    if len(events) == 0:
        raise NotEnoughEventsError("no events to split")
    cutoff = float(np.nanmax(events.timestamp)) - holdout_days * SECONDS_PER_DAY
    before = events.timestamp < cutoff
    return events.select(before), events.select(~before), cutoff


def held_out_interests(data: InteractionData, test: EventLog) -> dict[int, set[str]]:
    """Per known shopper: products touched after the cutoff that could be recommended
    (on sale, known to the model, not already bought before)."""
    held_out = build_interactions(test, settings=data.settings)
    users = positions(data.user_ids, held_out.user_ids)[held_out.events.user]
    products = positions(data.products.product_id, held_out.products.product_id)[
        held_out.events.product
    ]
    recommendable = data.products.available & ~data.products.deleted
    usable = (users >= 0) & (products >= 0)
    usable[usable] &= recommendable[products[usable]]
    users, products = users[usable], products[usable]
    purchases = sp.coo_matrix(data.purchased)
    width = data.product_count
    bought_before = np.isin(
        users * width + products, purchases.row.astype(np.int64) * width + purchases.col
    )
    interests: dict[int, set[str]] = {}
    ids = data.products.product_id
    for user, product in zip(users[~bought_before], products[~bought_before], strict=True):
        interests.setdefault(int(user), set()).add(str(ids[product]))
    return interests


UserRanker = Callable[[int], list[str]]


def _strategy_ranker(strategy: Strategy, user_ids: StrArray, k: int) -> UserRanker:
    def rank(user: int) -> list[str]:
        found = strategy.recommend(user_id=str(user_ids[user]), k=k)
        return [item.product_id for item in found]

    return rank


def _popularity_ranker(popular: MostPopular, purchased: sp.csr_matrix, k: int) -> UserRanker:
    def rank(user: int) -> list[str]:
        bought = purchased.indices[purchased.indptr[user] : purchased.indptr[user + 1]]
        return popular.top(k, bought.astype(np.int64))

    return rank


def _als_ranker(als: AlsBaseline, k: int, user: int) -> list[str]:
    return als.for_user(user, k)


def _score(
    method: str, rank: UserRanker, interests: dict[int, set[str]], k: int, catalog_size: int
) -> HoldoutScores:
    tally = RankingTally(k=k, catalog_size=catalog_size)
    started = time.perf_counter()
    for user, relevant in interests.items():
        tally.add(rank(user), relevant)
    elapsed = time.perf_counter() - started
    return HoldoutScores(
        method=method,
        hit_rate=tally.hit_rate,
        ndcg=tally.ndcg,
        map=tally.map,
        coverage=tally.coverage,
        users=tally.queries,
        milliseconds_per_query=1000.0 * elapsed / max(tally.queries, 1),
    )


def evaluate_holdout(
    events: EventLog,
    catalog: CatalogTable | None = None,
    *,
    holdout_days: float = 7.0,
    k: int = 10,
    dataset: str = "events",
    settings: InteractionSettings | None = None,
    baselines: bool = True,
    max_users: int | None = None,
) -> HoldoutReport:
    """HR@K, NDCG@K, MAP@K and coverage per strategy, most-popular and implicit ALS
    (its defaults; left out when not `baselines`), all fitted on the same training
    part, for a "for you" query; over at most `max_users` returning shoppers (a fixed
    random sample) when given."""
    train, test, cutoff = split_by_time(events, holdout_days)
    if len(train) == 0:
        raise NotEnoughEventsError("no events before the holdout period")
    data = build_interactions(train, catalog, settings=settings, now=cutoff)
    interests = held_out_interests(data, test)
    if not interests:
        raise NotEnoughEventsError("no known shopper came back during the holdout period")
    if max_users is not None and len(interests) > max_users:
        chosen = np.random.default_rng(0).choice(len(interests), max_users, replace=False)
        users = list(interests)
        interests = {users[index]: interests[users[index]] for index in sorted(chosen)}
    fit_seconds: dict[str, float] = {}
    started = time.perf_counter()
    auto = AutoStrategy()
    auto.fit(data)
    fit_seconds["auto (all strategies)"] = time.perf_counter() - started
    recommendable = int((data.products.available & ~data.products.deleted).sum())
    rankers: dict[str, UserRanker] = {
        part.name: _strategy_ranker(part, data.user_ids, k)
        for part in (*auto.parts, auto)
        if part.name in STRATEGIES
    }
    if baselines:
        started = time.perf_counter()
        als = AlsBaseline(data, event_counts(data))
        fit_seconds[AlsBaseline.name] = time.perf_counter() - started
        rankers[MostPopular.name] = _popularity_ranker(MostPopular(data), data.purchased, k)
        rankers[AlsBaseline.name] = partial(_als_ranker, als, k)
    scores = [_score(name, rank, interests, k, recommendable) for name, rank in rankers.items()]
    return HoldoutReport(
        dataset=dataset,
        k=k,
        holdout_days=holdout_days,
        cutoff=cutoff,
        train_events=len(train),
        test_events=len(test),
        users=len(interests),
        products=data.product_count,
        fit_seconds=fit_seconds,
        scores=scores,
    )

"""Choosing `auto`'s visit weights per tenant, at fit time, on the tenant's own data.

The latest visits are held out (`sessions.split_visits`: the last days, or the last
fifth of a short log); the blend is fitted on the rest and every held-out next click is
a query. Each source's shortlist is computed once per query; a weighting is then scored
by re-ranking those candidates (vectorised), so many weightings cost little:

1. each source alone; the best is the starting point. Quality is HR@20 + MRR@20 of
   both readings of the evaluator (`next_item`): all clicks, where the product on
   screen may be proposed again, and product page, where it may not;
2. coordinate ascent, twice over the other sources, each weight on a small grid;
3. guard: unless the blend beats that best single source beyond noise (paired bootstrap
   over held-out sessions), the best single source is served alone.

The chosen weights go into `AutoSettings`, which the model file stores, so serving only
reads them. Scoring here approximates serving by leaving out the fill-ins (trending,
newest) that only pad a short list and each source's tail beyond `kept` candidates.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from mercato.modules.recommendations.bootstrap import interval, resampled_means, session_totals
from mercato.modules.recommendations.event_log import CatalogTable, EventLog
from mercato.modules.recommendations.interactions import (
    InteractionData,
    InteractionSettings,
    build_interactions,
)
from mercato.modules.recommendations.sessions import (
    SessionPosition,
    interest_events,
    session_positions,
    split_visits,
)
from mercato.modules.recommendations.strategies import AutoSettings, AutoStrategy

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class TuningSettings:
    holdout_days: float = 7.0
    holdout_share: float = 0.2
    k: int = 20
    max_positions: int = 3_000
    """Held-out queries scored at most (whole sessions, drawn at random)."""
    min_positions: int = 200
    """Fewer held-out queries than this: too little to choose, defaults are kept."""
    kept: int = 50
    grid: tuple[float, ...] = (0.0, 0.1, 0.3, 1.0, 3.0)
    passes: int = 2
    resamples: int = 1_000
    seed: int = 42


@dataclass(frozen=True)
class AutoChoice:
    """What the choice decided and on what evidence (reported by `mercato reco`)."""

    outcome: str
    """`blend`, `single` (the blend was not better beyond noise) or `defaults`."""
    weights: dict[str, float] = field(default_factory=dict)
    best_single: str = ""
    positions: int = 0
    sessions: int = 0
    hit_rate: float = 0.0
    mrr: float = 0.0
    single_hit_rate: float = 0.0
    single_mrr: float = 0.0
    gain_interval: tuple[float, float] = (0.0, 0.0)
    seconds: float = 0.0

    def settings(self) -> AutoSettings:
        return dataclasses.replace(AutoSettings(), **self.weights)


@dataclass(frozen=True)
class Candidates:
    """Every (query, product) pair some source proposes, one column per source."""

    sources: list[str]
    query: IntArray
    product: IntArray
    values: NDArray[np.float32]
    """Rows x sources (float32: thousands of queries x hundreds of candidates)."""
    target_row: IntArray
    """Per query: the row of its target, -1 when no source proposes it."""
    target: IntArray
    session: IntArray
    screen: IntArray
    """Per query: the product on screen (the last click before the target)."""

    def product_page(self) -> Candidates:
        """The queries as a product page sees them: the product on screen is never
        proposed and queries whose target is that product are left out."""
        kept = self.target != self.screen
        kept_rows = kept[self.query] & (self.product != self.screen[self.query])
        row_number = np.cumsum(kept_rows) - 1
        target_row = self.target_row[kept]
        return Candidates(
            sources=self.sources,
            query=(np.cumsum(kept) - 1)[self.query[kept_rows]],
            product=self.product[kept_rows],
            values=self.values[kept_rows],
            target_row=np.where(target_row >= 0, row_number[np.maximum(target_row, 0)], -1),
            target=self.target[kept],
            session=self.session[kept],
            screen=self.screen[kept],
        )

    def rank(self, weights: FloatArray, k: int) -> tuple[FloatArray, FloatArray]:
        """Per query: hit in the top `k` (0/1) and reciprocal rank (0 outside)."""
        scores = self.values @ weights.astype(np.float32)
        found = self.target_row >= 0
        target_score = np.where(found, scores[np.maximum(self.target_row, 0)], 0.0)
        ahead = target_score[self.query]
        before = (scores > ahead) | ((scores == ahead) & (self.product < self.target[self.query]))
        before &= scores > 0
        rank = 1 + np.bincount(self.query[before], minlength=self.target.size)
        hit = found & (target_score > 0) & (rank <= k)
        return hit.astype(np.float64), np.where(hit, 1.0 / rank, 0.0)


def _collect(auto: AutoStrategy, queries: list[SessionPosition], k: int, kept: int) -> Candidates:
    """Each query's sources (as `auto` would blend them, the product on screen and past
    purchases allowed), each cut to its best `kept` and scaled so its best is 1."""
    names: dict[str, int] = {}
    rows: list[tuple[int, IntArray, FloatArray, int]] = []
    catalog = auto.catalog
    targets = np.full(len(queries), -1, dtype=np.int64)
    screens = np.full(len(queries), -1, dtype=np.int64)
    for number, query in enumerate(queries):
        targets[number] = catalog.index(query.target)
        screens[number] = catalog.index(query.earlier[-1])
        context = auto.resolve(
            user_id=query.visitor,
            product_id=query.earlier[-1],
            exclude=(),
            recently_viewed=query.earlier[:-1],
            include_purchased=True,
            include_context_product=True,
        )
        for name, shortlist in auto.visit_sources(context, k):
            column = names.setdefault(name, len(names))
            allowed = shortlist.only(context.allowed(shortlist.products, catalog)).best(kept)
            if len(allowed) and allowed.scores.max() > 0:
                rows.append(
                    (number, allowed.products, allowed.scores / allowed.scores.max(), column)
                )
    width = max(catalog.size, 1)
    if rows:
        keys = np.concatenate([number * width + products for number, products, _, _ in rows])
        columns = np.concatenate([np.full(p.size, c) for _, p, _, c in rows])
        scaled = np.concatenate([scores for _, _, scores, _ in rows])
    else:
        keys = columns = np.array([], dtype=np.int64)
        scaled = np.array([], dtype=np.float64)
    unique, pair = np.unique(keys, return_inverse=True)
    values = np.zeros((unique.size, len(names)), dtype=np.float32)
    values[pair, columns] = scaled
    target_keys = np.arange(len(queries)) * width + targets
    where = np.zeros(len(queries), dtype=np.int64)
    found = np.zeros(len(queries), dtype=np.bool_)
    if unique.size:
        where = np.minimum(np.searchsorted(unique, target_keys), unique.size - 1)
        found = (targets >= 0) & (unique[where] == target_keys)
    return Candidates(
        sources=list(names),
        query=(unique // width).astype(np.int64),
        product=(unique % width).astype(np.int64),
        values=values,
        target_row=np.where(found, where, -1).astype(np.int64),
        target=targets,
        session=np.array([query.session for query in queries], dtype=np.int64),
        screen=screens,
    )


def _sample(queries: list[SessionPosition], limit: int, seed: int) -> list[SessionPosition]:
    """Whole sessions at random until `limit` queries, renumbered 0..n-1."""
    sessions: dict[int, list[SessionPosition]] = {}
    for query in queries:
        sessions.setdefault(query.session, []).append(query)
    order = np.random.default_rng(seed).permutation(len(sessions))
    groups = list(sessions.values())
    chosen: list[SessionPosition] = []
    for number, index in enumerate(order.tolist()):
        if len(chosen) >= limit:
            break
        chosen += [dataclasses.replace(query, session=number) for query in groups[index]]
    return chosen


Readings = tuple[Candidates, Candidates]


def _quality(readings: Readings, weights: FloatArray, k: int) -> tuple[float, FloatArray]:
    """HR@k + MRR@k summed over both readings (all clicks, product page), and the
    per-query hit + reciprocal rank of each reading, concatenated."""
    per_query = [np.add(*reading.rank(weights, k)) for reading in readings]
    total = sum(float(values.mean()) for values in per_query if values.size)
    return total, np.concatenate(per_query)


def _ascend(readings: Readings, settings: TuningSettings) -> tuple[int, FloatArray]:
    """The best single source and the weights coordinate ascent reaches from it."""
    count = len(readings[0].sources)
    singles = [_quality(readings, np.eye(count)[column], settings.k)[0] for column in range(count)]
    best = int(np.argmax(singles))
    weights = np.eye(count)[best]
    current = singles[best]
    for _ in range(settings.passes):
        for column in range(count):
            if column == best:
                continue
            for value in settings.grid:
                if value == weights[column]:
                    continue
                trial = weights.copy()
                trial[column] = value
                score = _quality(readings, trial, settings.k)[0]
                if score > current + 1e-12:
                    weights, current = trial, score
    return best, weights


def choose_weights(
    events: EventLog,
    catalog: CatalogTable | None = None,
    *,
    settings: TuningSettings | None = None,
    interactions: InteractionSettings | None = None,
) -> AutoChoice:
    """The visit weights for a tenant's events (see the module docstring)."""
    started = time.perf_counter()
    settings = settings or TuningSettings()
    train, held_out, _ = split_visits(
        interest_events(events), settings.holdout_days, max_share=settings.holdout_share
    )
    queries = list(session_positions(held_out))
    if len(queries) < settings.min_positions or len(train) == 0:
        return AutoChoice("defaults", positions=len(queries))
    queries = _sample(queries, settings.max_positions, settings.seed)
    auto = AutoStrategy()
    auto.fit(build_interactions(train, catalog, settings=interactions))
    candidates = _collect(auto, queries, settings.k, settings.kept)
    if not candidates.sources:
        return AutoChoice("defaults", positions=len(queries))
    readings = (candidates, candidates.product_page())
    best, weights = _ascend(readings, settings)
    single = np.eye(weights.size)[best]
    _, blend_values = _quality(readings, weights, settings.k)
    _, single_values = _quality(readings, single, settings.k)
    sessions = np.concatenate([reading.session for reading in readings])
    count = int(sessions.max()) + 1
    gain = session_totals(blend_values - single_values, sessions, count)
    sizes = np.bincount(sessions, minlength=count).astype(np.float64)
    means = resampled_means(gain[:, None], sizes, resamples=settings.resamples, seed=settings.seed)
    low, high = interval(means[:, 0])
    outcome = "blend" if low > 0 else "single"
    chosen = weights if outcome == "blend" else single
    hits, ranks = candidates.rank(chosen, settings.k)
    single_hits, single_ranks = candidates.rank(single, settings.k)
    return AutoChoice(
        outcome,
        weights={
            name: float(value) for name, value in zip(candidates.sources, chosen, strict=True)
        },
        best_single=candidates.sources[best],
        positions=len(queries),
        sessions=count,
        hit_rate=float(hits.mean()),
        mrr=float(ranks.mean()),
        single_hit_rate=float(single_hits.mean()),
        single_mrr=float(single_ranks.mean()),
        gain_interval=(low, high),
        seconds=time.perf_counter() - started,
    )


def fit_auto(
    events: EventLog,
    catalog: CatalogTable | None = None,
    *,
    settings: TuningSettings | None = None,
    interactions: InteractionSettings | None = None,
) -> tuple[AutoStrategy, InteractionData, AutoChoice]:
    """Choose the weights on the held-out latest visits, then fit on everything."""
    choice = choose_weights(events, catalog, settings=settings, interactions=interactions)
    data = build_interactions(events, catalog, settings=interactions)
    auto = AutoStrategy(choice.settings())
    auto.fit(data)
    return auto, data, choice

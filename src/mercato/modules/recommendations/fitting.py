"""Fitting a tenant's model: read its events and catalog, fit the `auto` blend (and with
it every single strategy), save a new version as a shared blob, tell API processes.

The `.npz` is written to a scratch folder of this process and then streamed into the
shared blob store, where every API process on every machine reads it; the scratch copy
is gone when the fit returns.

A fit whose inputs carry the same `data_mark` as the newest version is skipped, so the
periodic job costs two cheap queries per tenant when nothing happened; a newest version
whose blob is missing (indexed before models were shared blobs) is refitted. Reading and
writing are two short transactions; the CPU work between them runs in a thread and holds
no database connection.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.blobs import shared_blobs
from mercato.kernel.db import after_commit, get_database
from mercato.kernel.logging import get_logger
from mercato.kernel.redis import get_redis, tenant_key
from mercato.modules.recommendations.auto_tuning import fit_auto
from mercato.modules.recommendations.cache import announce_model_version, note_model_learnt
from mercato.modules.recommendations.evaluation import NotEnoughEventsError, evaluate_holdout
from mercato.modules.recommendations.event_log import CatalogTable, EventLog
from mercato.modules.recommendations.models import RecoModel
from mercato.modules.recommendations.storage import (
    MODEL_CONTENT_TYPE,
    latest_model,
    model_key,
    next_version,
    prune_versions,
    remove_models,
)
from mercato.modules.recommendations.strategies import STRATEGIES, AutoStrategy
from mercato.modules.recommendations.strategies.text_profiles import similar_products_reused
from mercato.settings import get_settings

log = get_logger("mercato.recommendations.fit")

Progress = Callable[[str], None]
FIT_MARK_S = 3600


class TrainingSource(Protocol):
    """Where a tenant's events and catalog come from (the database, exported files)."""

    async def mark(self, session: AsyncSession, tenant_id: uuid.UUID) -> str:
        """A short string that changes whenever the data changes."""

    async def load(
        self, session: AsyncSession, tenant_id: uuid.UUID
    ) -> tuple[EventLog, CatalogTable]: ...


@dataclass(frozen=True)
class FitOutcome:
    tenant_id: uuid.UUID
    version: int | None
    skipped: bool
    events: int = 0
    products: int = 0
    users: int = 0
    seconds: float = 0.0
    size_bytes: int = 0
    model_key: str | None = None
    """The version's shared blob (see `storage`)."""
    busy: bool = False
    """Skipped because another fit of the tenant was running."""


@dataclass(frozen=True)
class FittedFile:
    events: int
    products: int
    users: int
    seconds: float
    size_bytes: int
    scores: dict[str, dict[str, float]] = field(default_factory=dict)


OFFLINE_SCORE_USERS = 2_000
"""Returning shoppers the offline scores rank for (a fixed sample): enough for two
decimals, and bounded, so a fit job's cost does not grow with the number of shoppers."""


def offline_scores(events: EventLog, catalog: CatalogTable) -> dict[str, dict[str, float]]:
    """HR@10 and NDCG@10 of each strategy on the last week held out (`evaluation`); none
    when the history is too short to hold a week out. The models API shows only the
    strategies, so the baselines are not fitted."""
    try:
        report = evaluate_holdout(events, catalog, baselines=False, max_users=OFFLINE_SCORE_USERS)
    except NotEnoughEventsError:
        return {}
    return {
        scored.method: {"hit_rate": round(scored.hit_rate, 4), "ndcg": round(scored.ndcg, 4)}
        for scored in report.scores
        if scored.method in STRATEGIES
    }


def fit_to_file(events: EventLog, catalog: CatalogTable, path: Path) -> FittedFile:
    """The CPU part: choose the blend's weights on the latest visits, fit it on
    everything, write one `.npz` (the weights travel in it), and score the
    strategies offline (timed apart: `seconds` is the choice and the fit). The three
    fits share one search of the catalog's text neighbours."""
    started = time.perf_counter()
    with similar_products_reused():
        model, data, choice = fit_auto(events, catalog)
        model.save(path)
        seconds = time.perf_counter() - started
        scores = offline_scores(events, catalog)
    log.info(
        "reco_auto_weights_chosen",
        outcome=choice.outcome,
        best_single=choice.best_single,
        positions=choice.positions,
        weights=choice.weights,
    )
    return FittedFile(
        events=len(events),
        products=data.product_count,
        users=data.user_count,
        seconds=seconds,
        size_bytes=path.stat().st_size,
        scores=scores,
    )


def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


def fitting_key(tenant_id: uuid.UUID) -> str:
    return tenant_key(tenant_id, "reco", "fitting")


async def fit_running(tenant_id: uuid.UUID) -> bool:
    """Whether a fit of the tenant runs now, in any process (False when Redis is down)."""
    try:
        return bool(await get_redis().exists(fitting_key(tenant_id)))
    except RedisError:
        return False


async def fit_tenant(
    tenant_id: uuid.UUID,
    source: TrainingSource,
    *,
    force: bool = False,
    keep: int | None = None,
    progress: Progress | None = None,
) -> FitOutcome:
    """Fit and store a new model version unless the data did not change since the last;
    keep the newest `keep` versions (default `reco_models_kept`).

    One fit of a tenant at a time, whoever asks (the periodic job, a merchant, the first
    events, the command): a fit that finds another running is skipped (`busy`). The mark
    it holds in Redis expires after `FIT_MARK_S` should its process die mid-fit.
    """
    try:
        claimed = await get_redis().set(fitting_key(tenant_id), "1", nx=True, ex=FIT_MARK_S)
    except RedisError:
        claimed = True  # no way to tell; fitting twice is wasteful, never wrong
    if not claimed:
        _say(progress, "another fit of this tenant is running; nothing to do")
        return FitOutcome(tenant_id, None, skipped=True, busy=True)
    try:
        return await _fit(tenant_id, source, force=force, keep=keep, progress=progress)
    finally:
        try:
            await get_redis().delete(fitting_key(tenant_id))
        except RedisError:
            log.warning("reco_fit_mark_not_cleared", tenant_id=str(tenant_id))


async def _fit(
    tenant_id: uuid.UUID,
    source: TrainingSource,
    *,
    force: bool,
    keep: int | None,
    progress: Progress | None,
) -> FitOutcome:
    database = get_database()
    async with database.tenant_session(tenant_id) as session:
        newest = await latest_model(session, tenant_id)
        version = await next_version(session, tenant_id)
    # Events and catalog may come from the replica: a fit a second behind is as good, and
    # the next one sees the rest. Model versions stay on the primary (numbered there).
    async with database.read_session(tenant_id) as read:
        mark = await source.mark(read, tenant_id)
        if (
            newest is not None
            and newest.data_mark == mark
            and not force
            and (await shared_blobs().info(tenant_id, newest.path) is not None)
        ):
            _say(progress, f"unchanged since version {newest.version}; nothing to fit")
            if newest.events:
                await note_model_learnt(tenant_id)
            return FitOutcome(tenant_id, newest.version, skipped=True)
        _say(progress, "reading events and catalog")
        events, catalog = await source.load(read, tenant_id)
    if len(catalog) == 0:
        _say(progress, "the catalog is empty; nothing to recommend yet")
        return FitOutcome(tenant_id, newest.version if newest else None, skipped=True)
    key = model_key(version)
    _say(
        progress, f"fitting version {version} on {len(events):,} events, {len(catalog):,} products"
    )
    with tempfile.TemporaryDirectory(prefix="mercato-fit-") as scratch:
        path = Path(scratch) / "auto.npz"
        fitted = await asyncio.to_thread(fit_to_file, events, catalog, path)
        await shared_blobs().put_file(tenant_id, key, path, content_type=MODEL_CONTENT_TYPE)
    async with database.tenant_session(tenant_id) as session:
        session.add(
            RecoModel(
                tenant_id=tenant_id,
                version=version,
                strategy=AutoStrategy.name,
                events=fitted.events,
                products=fitted.products,
                users=fitted.users,
                path=key,
                size_bytes=fitted.size_bytes,
                fit_seconds=fitted.seconds,
                data_mark=mark,
                scores=fitted.scores,
            )
        )
        await session.flush()
        stale = await prune_versions(session, tenant_id, keep or get_settings().reco_models_kept)

        async def publish() -> None:
            await announce_model_version(tenant_id, version, learnt_from_events=fitted.events > 0)
            await remove_models(tenant_id, stale)

        after_commit(session, publish)
    log.info(
        "reco_model_fitted",
        tenant_id=str(tenant_id),
        version=version,
        events=fitted.events,
        seconds=round(fitted.seconds, 2),
    )
    _say(progress, f"version {version} saved ({fitted.size_bytes:,} bytes, {fitted.seconds:.1f}s)")
    return FitOutcome(
        tenant_id,
        version,
        skipped=False,
        events=fitted.events,
        products=fitted.products,
        users=fitted.users,
        seconds=fitted.seconds,
        size_bytes=fitted.size_bytes,
        model_key=key,
    )

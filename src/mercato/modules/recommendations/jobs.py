"""Recommendation jobs: the periodic refit of every tenant's model, one tenant's fit
asked for now (`model_versions`), live counts kept from stored events (`live`), and
cached lists dropped when the catalog changes.

A product renamed, repriced, sold out or deleted must not linger in cached lists for
their 5-minute lifetime, so every `product.*` event bumps the tenant's cache generation.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from mercato.kernel.events import subscribe
from mercato.kernel.jobs import periodic, task
from mercato.kernel.logging import get_logger
from mercato.kernel.tenant_runs import for_each_tenant
from mercato.modules.identity import active_tenant_ids
from mercato.modules.recommendations.cache import invalidate_recommendations
from mercato.modules.recommendations.db_source import DatabaseSource
from mercato.modules.recommendations.fitting import fit_tenant
from mercato.modules.recommendations.live import record_events
from mercato.modules.recommendations.model_versions import FIT_TASK, schedule_fit
from mercato.modules.tracking import StoredEvent, on_events_stored
from mercato.settings import get_settings

log = get_logger("mercato.recommendations.jobs")

CATALOG_EVENTS = ("product.created", "product.updated", "product.deleted")


@on_events_stored
async def count_live_events(tenant_id: uuid.UUID, events: Sequence[StoredEvent]) -> None:
    """Update the tenant's live counts; its first events ask for its first fit."""
    if await record_events(tenant_id, events):
        await schedule_fit(tenant_id)


@subscribe("product.created")
async def fit_new_products(tenant_id: uuid.UUID, payload: dict[str, Any]) -> None:
    """New products join the model (content-based similarity) soon, not at the next
    periodic refit; a catalog import asks once (one fit waits at most)."""
    await schedule_fit(tenant_id)


async def drop_cached_lists(tenant_id: uuid.UUID, payload: dict[str, Any]) -> None:
    """Any change to products: every cached list of the tenant becomes stale."""
    await invalidate_recommendations(tenant_id)


for _event in CATALOG_EVENTS:
    subscribe(_event)(drop_cached_lists)


@periodic(get_settings().reco_fit_cron, periodic_id="reco-fit-models")
@task("recommendations.fit_models", timeout_s=3600, queue="models")
async def fit_models(*, timestamp: int) -> None:
    """Refit each active tenant whose events or catalog changed, one after the other (two
    fits never compete for the same cores); a tenant that fails is logged and skipped.
    On its own `models` queue, so heavy fits can get a worker of their own."""
    tenants = await active_tenant_ids()
    source = DatabaseSource(get_settings().reco_history_days)
    await for_each_tenant("reco_fit", tenants, lambda tenant_id: fit_tenant(tenant_id, source))


@task(FIT_TASK, timeout_s=3600, queue="models")
async def fit_one_tenant(*, tenant_id: str, force: bool = False) -> None:
    """One tenant's fit, asked for by its merchant or by its first events."""
    source = DatabaseSource(get_settings().reco_history_days)
    await fit_tenant(uuid.UUID(tenant_id), source, force=force)

"""Models as a resource: a tenant's fitted versions, and a fit asked for now.

Every fit of one tenant outside the periodic job runs as the job
`recommendations.fit_tenant`, deferred with the lock `reco-fit:<tenant>` both as its
lock (two never run at once) and as its queueing lock (one waits at most). A merchant's
`POST {T}/recommendations/models` asks for one now (409 while one of the tenant's fits
waits or runs, whoever asked for it); a tenant without a model asks for its first one
`reco_first_fit_delay_s` after its first live events, so the events of the first burst
land in it, and new products ask for one the same way (the content-based part can only
place a product it was fitted with); the periodic refit stays for everything else.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import get_database
from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import Conflict
from mercato.kernel.jobs import AlreadyQueued, active_job, defer
from mercato.kernel.logging import get_logger
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.audit import record_audit
from mercato.modules.recommendations.fitting import fit_running
from mercato.modules.recommendations.models import RecoModel
from mercato.modules.recommendations.schemas import FitQueued, ModelList, ModelRead
from mercato.settings import get_settings

log = get_logger("mercato.recommendations.models")

FIT_TASK = "recommendations.fit_tenant"


class FitInProgress(Conflict):
    slug, title = "fit-in-progress", "A fit of the recommendation model is under way"


def fit_lock(tenant_id: uuid.UUID) -> str:
    return f"reco-fit:{tenant_id}"


async def fitting(session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    """Whether a fit of the tenant waits in the queue or runs (in a job or elsewhere)."""
    return await active_job(session, fit_lock(tenant_id)) is not None or await fit_running(
        tenant_id
    )


async def list_models(session: AsyncSession, principal: TenantPrincipal) -> ModelList:
    """The tenant's kept model versions, newest first, and whether a fit is under way."""
    principal.require(Permission.RECOMMENDATION_MODELS_READ)
    rows = await session.scalars(
        select(RecoModel)
        .where(RecoModel.tenant_id == principal.tenant_id)
        .order_by(RecoModel.version.desc())
    )
    return ModelList(
        data=[
            ModelRead(
                version=row.version,
                fitted_at=row.fitted_at,
                events=row.events,
                products=row.products,
                users=row.users,
                fit_seconds=round(row.fit_seconds, 3),
                size_bytes=row.size_bytes,
                scores=row.scores,
            )
            for row in rows
        ],
        fitting=await fitting(session, principal.tenant_id),
    )


async def request_fit(
    session: AsyncSession, principal: TenantPrincipal, meta: RequestMeta | None = None
) -> FitQueued:
    """Queue a fit of the tenant now (even if its data did not change), audited.

    Raises `FitInProgress` while another of its fits waits or runs.
    """
    principal.require(Permission.RECOMMENDATION_MODELS_WRITE)
    tenant_id = principal.tenant_id
    if await fitting(session, tenant_id):
        raise FitInProgress("A fit of this shop's recommendation model is already under way")
    try:
        job_id = await defer(
            session,
            FIT_TASK,
            tenant_id=str(tenant_id),
            force=True,
            lock=fit_lock(tenant_id),
            queueing_lock=fit_lock(tenant_id),
        )
    except AlreadyQueued:
        raise FitInProgress(
            "A fit of this shop's recommendation model is already under way"
        ) from None
    await record_audit(
        session,
        actor=principal,
        action="recommendations.model_fit_requested",
        target=f"reco_fit_job:{job_id}",
        meta=meta,
    )
    return FitQueued(job_id=job_id)


async def schedule_fit(tenant_id: uuid.UUID) -> None:
    """Ask for a fit of the tenant a little later (`reco_first_fit_delay_s`), so the rest
    of a burst (first events, a catalog import) lands in it; at most one waits."""
    lock = fit_lock(tenant_id)
    try:
        async with get_database().tenant_session(tenant_id) as session:
            await defer(
                session,
                FIT_TASK,
                delay_s=get_settings().reco_first_fit_delay_s,
                tenant_id=str(tenant_id),
                force=False,
                lock=lock,
                queueing_lock=lock,
            )
    except AlreadyQueued:
        return
    log.info("reco_fit_scheduled", tenant_id=str(tenant_id))

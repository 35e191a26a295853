"""Where fitted models live: the tenant's shared blob `reco/models/<version>/auto.npz`
(`mercato.kernel.blobs`: PostgreSQL or S3, never a machine's disk), indexed by the
`reco_model` table, whose `path` holds the blob's key.

One file per version holds the `auto` blend, which carries every single strategy as a
part (collaborative, content_based, trending, frequently_bought_together), so one fit
serves every `strategy=` of the API. Old versions beyond `reco_models_kept` are removed.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.blobs import shared_blobs
from mercato.modules.recommendations.models import RecoModel

MODEL_CONTENT_TYPE = "application/x-npz"


def model_key(version: int) -> str:
    """The blob key of a version (within the tenant's blobs)."""
    return f"reco/models/{version}/auto.npz"


async def latest_model(session: AsyncSession, tenant_id: uuid.UUID) -> RecoModel | None:
    """The newest model version of a tenant (the session must be scoped to it)."""
    found: RecoModel | None = await session.scalar(
        select(RecoModel)
        .where(RecoModel.tenant_id == tenant_id)
        .order_by(RecoModel.version.desc())
        .limit(1)
    )
    return found


async def next_version(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    newest = await session.scalar(
        select(func.max(RecoModel.version)).where(RecoModel.tenant_id == tenant_id)
    )
    return int(newest or 0) + 1


async def prune_versions(session: AsyncSession, tenant_id: uuid.UUID, keep: int) -> list[str]:
    """Forget all but the newest `keep` versions; returns the blob keys to delete after
    commit (until then the index still names them)."""
    kept = select(RecoModel.version).where(RecoModel.tenant_id == tenant_id)
    newest = list(
        (await session.scalars(kept.order_by(RecoModel.version.desc()).limit(keep))).all()
    )
    if not newest:
        return []
    old = list((await session.scalars(kept.where(RecoModel.version < min(newest)))).all())
    if old:
        await session.execute(
            delete(RecoModel).where(RecoModel.tenant_id == tenant_id, RecoModel.version.in_(old))
        )
    return [model_key(version) for version in old]


async def remove_models(tenant_id: uuid.UUID, keys: list[str]) -> None:
    await shared_blobs().delete(tenant_id, keys)

"""Where fitted models live: `DATA_DIR/models/<tenant>/<version>/auto.npz`, indexed by the
`reco_model` table.

One file per version holds the `auto` blend, which carries every single strategy as a
part (collaborative, content_based, trending, frequently_bought_together), so one fit
serves every `strategy=` of the API. Old versions beyond `reco_models_kept` are removed.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.recommendations.models import RecoModel
from mercato.settings import get_settings

MODEL_FILE = "auto.npz"


def tenant_models_dir(tenant_id: uuid.UUID) -> Path:
    return Path(get_settings().data_dir) / "models" / str(tenant_id)


def version_path(tenant_id: uuid.UUID, version: int) -> Path:
    return tenant_models_dir(tenant_id) / str(version) / MODEL_FILE


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


async def prune_versions(session: AsyncSession, tenant_id: uuid.UUID, keep: int) -> list[Path]:
    """Forget all but the newest `keep` versions; returns the folders to delete after
    commit (an API process may still be reading the newest ones)."""
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
    return [version_path(tenant_id, version).parent for version in old]


def remove_folders(folders: list[Path]) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)

"""The models an API process holds in memory: the newest version per tenant, loaded on
first use, least recently used ones dropped beyond `reco_models_in_memory`.

A process learns of a new version from the version number the fit job announces in
Redis (one GET on a cache miss), falling back to the `reco_model` table when Redis has
none. So a version a worker on any machine fitted serves from the next request whose list
is not cached; the announcement also drops the cached lists, so that is the next request.

Loading streams the version's shared blob (never a file of the machine that fitted it)
into a scratch file of this process, reads it in a thread so the event loop keeps
serving, and removes the scratch file.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.blobs import BlobNotFound, shared_blobs
from mercato.kernel.logging import get_logger
from mercato.modules.recommendations.cache import announced_model_version
from mercato.modules.recommendations.models import RecoModel
from mercato.modules.recommendations.storage import latest_model
from mercato.modules.recommendations.strategies import AutoStrategy, Strategy, load_strategy
from mercato.settings import get_settings

log = get_logger("mercato.recommendations.registry")


@dataclass(frozen=True)
class LoadedModel:
    version: int
    auto: AutoStrategy

    def strategy(self, name: str) -> Strategy:
        """The fitted strategy the API calls `name`: the blend or one of its parts."""
        parts: dict[str, Strategy] = {
            "auto": self.auto,
            "collaborative": self.auto.collaborative,
            "content_based": self.auto.content_based,
            "trending": self.auto.trending,
            "frequently_bought_together": self.auto.bought_together,
        }
        return parts[name]


def read_model(path: Path, version: int) -> LoadedModel:
    model = load_strategy(path)
    if not isinstance(model, AutoStrategy):
        raise TypeError(f"{path} holds a {model.name} model, not the auto blend")
    return LoadedModel(version, model)


async def fetch_model(tenant_id: uuid.UUID, row: RecoModel) -> LoadedModel | None:
    """The version `row` indexes, from the shared blob store; None when its blob is gone
    (pruned meanwhile, or indexed before models were shared: the next fit replaces it)."""
    with tempfile.TemporaryDirectory(prefix="mercato-model-") as scratch:
        path = Path(scratch) / "auto.npz"
        try:
            await shared_blobs().download(tenant_id, row.path, path)
        except BlobNotFound:
            log.warning("reco_model_blob_missing", tenant_id=str(tenant_id), version=row.version)
            return None
        return await asyncio.to_thread(read_model, path, row.version)


class ModelRegistry:
    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self._models: OrderedDict[uuid.UUID, LoadedModel] = OrderedDict()
        self._loading: dict[uuid.UUID, asyncio.Lock] = {}

    def __len__(self) -> int:
        return len(self._models)

    async def get(
        self, session: AsyncSession, tenant_id: uuid.UUID, announced: int | None = None
    ) -> LoadedModel | None:
        """The tenant's newest model, or None when none was ever fitted.

        `announced` is the version Redis announces, when the caller already read it.
        """
        loaded = self._models.get(tenant_id)
        if announced is None:
            announced = await announced_model_version(tenant_id)
        if loaded is not None and announced == loaded.version:
            self._models.move_to_end(tenant_id)
            return loaded
        lock = self._loading.setdefault(tenant_id, asyncio.Lock())
        async with lock:
            loaded = self._models.get(tenant_id)
            if loaded is not None and announced == loaded.version:
                return loaded
            row = await latest_model(session, tenant_id)
            if row is None:
                return None
            if loaded is None or loaded.version != row.version:
                fetched = await fetch_model(tenant_id, row)
                if fetched is None:
                    return loaded
                loaded = fetched
            self._remember(tenant_id, loaded)
            return loaded

    def _remember(self, tenant_id: uuid.UUID, model: LoadedModel) -> None:
        self._models[tenant_id] = model
        self._models.move_to_end(tenant_id)
        while len(self._models) > self.capacity:
            evicted, _ = self._models.popitem(last=False)
            self._loading.pop(evicted, None)


_registry: ModelRegistry | None = None


def model_registry() -> ModelRegistry:
    """This process's registry (sized from settings on first use)."""
    global _registry
    if _registry is None:
        _registry = ModelRegistry(get_settings().reco_models_in_memory)
    return _registry

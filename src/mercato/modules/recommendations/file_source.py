"""A tenant's training data from JSON Lines files (an export, a simulator's output), so a
model can be fitted for a tenant before its events are in the database."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.recommendations.event_files import read_catalog_lines, read_event_lines
from mercato.modules.recommendations.event_log import CatalogTable, EventLog


@dataclass(frozen=True)
class FileSource:
    events: Path
    catalog: Path

    async def mark(self, session: AsyncSession, tenant_id: uuid.UUID) -> str:
        stats = [
            (str(path.resolve()), path.stat().st_size, path.stat().st_mtime_ns)
            for path in (self.events, self.catalog)
        ]
        return "files:" + hashlib.blake2b(repr(stats).encode(), digest_size=8).hexdigest()

    async def load(
        self, session: AsyncSession, tenant_id: uuid.UUID
    ) -> tuple[EventLog, CatalogTable]:
        events = await asyncio.to_thread(read_event_lines, self.events)
        catalog = await asyncio.to_thread(read_catalog_lines, self.catalog)
        return events, catalog

"""The tenant's time zone (tenant settings, validated when set; UTC by default).

Analytics days are local days, so every rollup and read asks this one function.
"""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.identity import tenant_setting

DEFAULT_ZONE = "UTC"


async def tenant_timezone(session: AsyncSession, tenant_id: uuid.UUID) -> str:
    zone = await tenant_setting(session, tenant_id, "timezone")
    if not zone:
        return DEFAULT_ZONE
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return DEFAULT_ZONE
    return str(zone)

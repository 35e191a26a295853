"""Computed task candidates, cached in Redis per tenant and list for a minute.

The lists scan recent raw events, which costs hundreds of milliseconds on a busy shop;
a minute-old list is fresh enough for a rep. Only the candidates are cached: the status
reps set, and who may see what, are applied on every read.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal

from redis.exceptions import RedisError

from mercato.kernel.redis import get_redis, tenant_key
from mercato.modules.insights.lists import Candidate, Tuning

TTL_S = 60


def _key(tenant_id: uuid.UUID, name: str, tuning: Tuning) -> str:
    shape = f"{tuning.days}:{tuning.abandon_hours}:{tuning.min_visits}:{tuning.min_views}"
    return tenant_key(tenant_id, "tasks", name, shape)


def _encode(candidates: list[Candidate]) -> str:
    rows = []
    for c in candidates:
        row = asdict(c)
        row["amount"] = None if c.amount is None else str(c.amount)
        row["occurred_at"] = c.occurred_at.isoformat()
        rows.append(row)
    return json.dumps(rows, default=str)


def _decode(raw: bytes | str) -> list[Candidate]:
    found = []
    for row in json.loads(raw):
        row["amount"] = None if row["amount"] is None else Decimal(row["amount"])
        row["occurred_at"] = datetime.fromisoformat(row["occurred_at"])
        found.append(Candidate(**row))
    return found


async def cached_candidates(
    tenant_id: uuid.UUID,
    name: str,
    tuning: Tuning,
    compute: Callable[[], Awaitable[list[Candidate]]],
    *,
    fresh: bool = False,
) -> list[Candidate]:
    """The list's candidates from Redis, or computed and stored (`fresh` skips the read)."""
    key = _key(tenant_id, name, tuning)
    try:
        raw = None if fresh else await get_redis().get(key)
    except RedisError:
        return await compute()
    if raw is not None:
        return _decode(raw)
    candidates = await compute()
    with contextlib.suppress(RedisError):
        await get_redis().set(key, _encode(candidates), ex=TTL_S)
    return candidates

"""Recommendation lists cached in Redis, and how every cached list is dropped at once.

Key: `mercato:{tenant}:reco:list:<generation>:<strategy>:<placement>:<user>:<product>:
<limit>:<exclude>:<viewed>` (parts hashed when long or holding a colon). `<generation>` is
a per-tenant counter: bumping it (on a new model version, a catalog change, an experiment
starting or stopping) makes every earlier key unreachable at once, and the TTL clears
them out. A cache hit costs two GETs. Redis being down degrades to computing every list,
never to an error.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable

from redis.exceptions import RedisError

from mercato.kernel.logging import get_logger
from mercato.kernel.redis import get_redis, tenant_key

log = get_logger("mercato.recommendations.cache")

MAX_PLAIN_PART = 64


def generation_key(tenant_id: uuid.UUID) -> str:
    return tenant_key(tenant_id, "reco", "generation")


def model_version_key(tenant_id: uuid.UUID) -> str:
    return tenant_key(tenant_id, "reco", "model-version")


def _part(value: object) -> str:
    text = "" if value is None else str(value)
    if len(text) <= MAX_PLAIN_PART and ":" not in text:
        return text
    return "h" + hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def list_key(tenant_id: uuid.UUID, generation: int, parts: Iterable[object]) -> str:
    return tenant_key(tenant_id, "reco", "list", generation, *(_part(part) for part in parts))


async def current_generation(tenant_id: uuid.UUID) -> int | None:
    """The tenant's cache generation; None when Redis cannot be reached."""
    try:
        raw = await get_redis().get(generation_key(tenant_id))
    except RedisError:
        log.warning("reco_cache_unavailable")
        return None
    return int(raw) if raw is not None else 0


async def read_list(key: str) -> bytes | None:
    try:
        cached = await get_redis().get(key)
    except RedisError:
        log.warning("reco_cache_unavailable")
        return None
    return cached.encode() if isinstance(cached, str) else cached


async def write_list(key: str, body: bytes, ttl_s: int) -> None:
    try:
        await get_redis().set(key, body, ex=ttl_s)
    except RedisError:
        log.warning("reco_cache_unavailable")


async def invalidate_recommendations(tenant_id: uuid.UUID) -> None:
    """Make every cached list of the tenant stale (call after the change committed)."""
    try:
        await get_redis().incr(generation_key(tenant_id))
    except RedisError:
        log.warning("reco_cache_invalidation_failed", tenant_id=str(tenant_id))


async def announce_model_version(tenant_id: uuid.UUID, version: int) -> None:
    """Tell API processes a newer model exists, and drop lists the older one computed."""
    try:
        await get_redis().set(model_version_key(tenant_id), version)
    except RedisError:
        log.warning("reco_model_announce_failed", tenant_id=str(tenant_id))
    await invalidate_recommendations(tenant_id)


async def announced_model_version(tenant_id: uuid.UUID) -> int | None:
    try:
        raw = await get_redis().get(model_version_key(tenant_id))
    except RedisError:
        return None
    return int(raw) if raw is not None else None

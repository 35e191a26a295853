"""Recommendation lists cached in Redis, and how every cached list is dropped at once.

Key: `mercato:{tenant}:reco:list:<strategy>:<placement>:<user>:<product>:<limit>:
<exclude>:<viewed>` (parts hashed when long or holding a colon); the value is the JSON
body after `<generation>:`. `<generation>` is a per-tenant counter: bumping it (on a new
model version, a catalog change, an experiment starting or stopping) makes every earlier
value stale at once, and the TTL clears them out. A lookup is one MGET of the generation,
the list and the newest model version (one round trip, one cluster slot), so it can
travel in the same pipeline as the request's rate limit, and a miss already knows which
model must answer. Redis being down degrades to computing every list, never to an error.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from redis.exceptions import RedisError

from mercato.kernel.logging import get_logger
from mercato.kernel.redis import AnyPipeline, get_redis, queue_raw, tenant_key

log = get_logger("mercato.recommendations.cache")

MAX_PLAIN_PART = 64


def generation_key(tenant_id: uuid.UUID) -> str:
    return tenant_key(tenant_id, "reco", "generation")


def model_version_key(tenant_id: uuid.UUID) -> str:
    return tenant_key(tenant_id, "reco", "model-version")


def learnt_key(tenant_id: uuid.UUID) -> str:
    """Set once a model of the tenant learnt from events (not from its catalog alone)."""
    return tenant_key(tenant_id, "reco", "model-learnt")


def _part(value: object) -> str:
    text = "" if value is None else str(value)
    if len(text) <= MAX_PLAIN_PART and ":" not in text:
        return text
    return "h" + hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def list_key(tenant_id: uuid.UUID, parts: Iterable[object]) -> str:
    return tenant_key(tenant_id, "reco", "list", *(_part(part) for part in parts))


@dataclass(frozen=True, slots=True)
class Lookup:
    """What one MGET told: the cache generation, the cached body if current, the model."""

    generation: int
    body: bytes | None
    model_version: int | None


def queue_lookup(pipe: AnyPipeline, tenant_id: uuid.UUID, parts: Iterable[object]) -> None:
    """Add the lookup of one list to a pipeline; read its reply with `looked_up`."""
    keys = (generation_key(tenant_id), list_key(tenant_id, parts), model_version_key(tenant_id))
    queue_raw(pipe, "MGET", *keys)


def looked_up(reply: list[bytes | None]) -> Lookup:
    raw_generation, value, raw_version = reply
    generation = int(raw_generation) if raw_generation is not None else 0
    version = int(raw_version) if raw_version is not None else None
    if value is None:
        return Lookup(generation, None, version)
    tag, _, body = value.partition(b":")
    return Lookup(generation, body if tag == str(generation).encode() else None, version)


async def lookup(tenant_id: uuid.UUID, parts: Iterable[object]) -> Lookup | None:
    """`looked_up` for one list; None when Redis cannot be reached."""
    pipe = get_redis().pipeline(transaction=False)
    queue_lookup(pipe, tenant_id, parts)
    try:
        (reply,) = await pipe.execute()
    except RedisError:
        log.warning("reco_cache_unavailable")
        return None
    return looked_up(reply)


async def store(
    tenant_id: uuid.UUID, parts: Iterable[object], generation: int, body: bytes, ttl_s: int
) -> None:
    """Cache a list computed while `generation` was current (stale at once if it moved)."""
    value = str(generation).encode() + b":" + body
    try:
        await get_redis().set(list_key(tenant_id, parts), value, ex=ttl_s)
    except RedisError:
        log.warning("reco_cache_unavailable")


async def current_generation(tenant_id: uuid.UUID) -> int | None:
    """The tenant's cache generation; None when Redis cannot be reached."""
    try:
        raw = await get_redis().get(generation_key(tenant_id))
    except RedisError:
        log.warning("reco_cache_unavailable")
        return None
    return int(raw) if raw is not None else 0


async def invalidate_recommendations(tenant_id: uuid.UUID) -> None:
    """Make every cached list of the tenant stale (call after the change committed)."""
    try:
        await get_redis().incr(generation_key(tenant_id))
    except RedisError:
        log.warning("reco_cache_invalidation_failed", tenant_id=str(tenant_id))


async def announce_model_version(
    tenant_id: uuid.UUID, version: int, *, learnt_from_events: bool
) -> None:
    """Tell API processes a newer model exists, and drop lists the older one computed."""
    try:
        await get_redis().set(model_version_key(tenant_id), version)
    except RedisError:
        log.warning("reco_model_announce_failed", tenant_id=str(tenant_id))
    if learnt_from_events:
        await note_model_learnt(tenant_id)
    await invalidate_recommendations(tenant_id)


async def note_model_learnt(tenant_id: uuid.UUID) -> None:
    """Remember the tenant has a model fitted on events (its events ask for no first fit)."""
    try:
        await get_redis().set(learnt_key(tenant_id), 1)
    except RedisError:
        log.warning("reco_model_announce_failed", tenant_id=str(tenant_id))


async def announced_model_version(tenant_id: uuid.UUID) -> int | None:
    try:
        raw = await get_redis().get(model_version_key(tenant_id))
    except RedisError:
        return None
    return int(raw) if raw is not None else None

"""API keys: generation, lookup by keyed hash, a shared cache, revocation.

A key is `mk_live_` or `mk_test_` followed by 32 random bytes in base62. Only its
HMAC-SHA256 under the server secret is stored. Authentication finds the row by that hash
before any tenant is known; row-level security lets a transaction see an api_key row
only when it holds the tenant id or the key's own hash (`app.api_key_hash`).
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from redis.exceptions import RedisError
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.crypto import keyed_hash
from mercato.kernel.db import set_tenant
from mercato.kernel.logging import get_logger
from mercato.kernel.redis import get_redis, tenant_key
from mercato.modules.identity.models import ApiKey

log = get_logger("mercato.identity.apikeys")

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
KEY_HASH_PURPOSE = "api-key"
CACHE_TTL_S = 300
# A process trusts a key it verified for this long, checking only the revocation marker.
LOCAL_CACHE_TTL_S = 5.0
LOCAL_CACHE_MAX = 10_000
REVOKED_MARKER_TTL_S = 60
LAST_USED_EVERY_S = 60
PREFIX_LENGTH = 12  # "mk_live_" + 4 characters, safe to display


@dataclass(frozen=True)
class ResolvedKey:
    id: str
    tenant_id: str
    kind: str
    permission: str
    allowed_origins: list[str]


def _base62(raw: bytes) -> str:
    number = int.from_bytes(raw, "big")
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(ALPHABET[remainder])
    return "".join(reversed(digits)).rjust(43, "0")


def generate_key(mode: str) -> str:
    return f"mk_{mode}_{_base62(secrets.token_bytes(32))}"


def looks_like_key(value: str) -> bool:
    return value.startswith(("mk_live_", "mk_test_"))


def hash_key(raw_key: str) -> bytes:
    return keyed_hash(raw_key, purpose=KEY_HASH_PURPOSE)


def _cache_key(key_hash: bytes) -> str:
    # Looked up before the tenant is known, so it lives under the global hash tag.
    return tenant_key(None, "api-key", key_hash.hex())


async def _cached(key_hash: bytes) -> ResolvedKey | None:
    try:
        raw = await get_redis().get(_cache_key(key_hash))
    except RedisError:
        return None
    return ResolvedKey(**json.loads(raw)) if raw else None


async def _remember(key_hash: bytes, resolved: ResolvedKey) -> None:
    try:
        await get_redis().set(_cache_key(key_hash), json.dumps(asdict(resolved)), ex=CACHE_TTL_S)
    except RedisError:
        log.warning("api_key_cache_unavailable")


def revoked_marker_key(tenant_id: uuid.UUID | str, key_id: uuid.UUID | str) -> str:
    """Set for a while once a key is revoked: processes check it before trusting a local entry.

    Under the key's tenant hash tag, so it travels in the same pipeline as the tenant's
    rate-limit buckets.
    """
    return tenant_key(tenant_id, "api-key-revoked", key_id)


# In-process memory of keys verified a moment ago: raw-key hash -> (expiry, key).
_local: dict[bytes, tuple[float, ResolvedKey]] = {}


def _remember_locally(key_hash: bytes, resolved: ResolvedKey) -> None:
    if len(_local) >= LOCAL_CACHE_MAX:
        _local.clear()  # crude but bounded; entries live seconds anyway
    _local[key_hash] = (time.monotonic() + LOCAL_CACHE_TTL_S, resolved)


def _recent(key_hash: bytes) -> ResolvedKey | None:
    entry = _local.get(key_hash)
    if entry is None:
        return None
    if entry[0] <= time.monotonic():
        _local.pop(key_hash, None)
        return None
    return entry[1]


def forget_locally(key_hash: bytes) -> None:
    _local.pop(key_hash, None)


async def forget(key_hash: bytes) -> None:
    """Drop a key from the shared cache so a revocation bites on the very next request."""
    forget_locally(key_hash)
    try:
        await get_redis().delete(_cache_key(key_hash))
    except RedisError:
        log.error("api_key_cache_invalidation_failed", key_hash=key_hash.hex()[:12])
        raise


async def mark_revoked(key_hash: bytes, tenant_id: uuid.UUID, key_id: uuid.UUID) -> None:
    """After the revocation commits: tell every process, then drop the shared cache entry.

    The marker outlives any process's local entry (`LOCAL_CACHE_TTL_S`), so an entry
    remembered just before the commit is refused on its next use.
    """
    forget_locally(key_hash)
    try:
        await get_redis().set(revoked_marker_key(tenant_id, key_id), "1", ex=REVOKED_MARKER_TTL_S)
    except RedisError:
        log.error("api_key_revocation_marker_failed", key_hash=key_hash.hex()[:12])
        raise
    await forget(key_hash)


@dataclass(frozen=True)
class Resolution:
    """A live key, and whether it came from this process's memory (then the caller must
    check `revoked_marker_key` before trusting it)."""

    key: ResolvedKey
    key_hash: bytes
    from_memory: bool


async def resolve(session: AsyncSession, raw_key: str) -> ResolvedKey | None:
    """The live key behind `raw_key`, or None (unknown or revoked)."""
    resolution = await resolve_fast(session, raw_key, use_memory=False)
    return None if resolution is None else resolution.key


async def resolve_fast(
    session: AsyncSession, raw_key: str, *, use_memory: bool = True
) -> Resolution | None:
    """Like `resolve`, but may answer from this process's memory of the last seconds.

    An answer `from_memory` is only as good as the revocation marker check the caller
    must make (the request path folds it into its rate-limit round trip).
    """
    if not looks_like_key(raw_key) or len(raw_key) > 80:
        return None
    key_hash = hash_key(raw_key)
    if use_memory:
        recent = _recent(key_hash)
        if recent is not None:
            await _touch(session, recent, key_hash)
            return Resolution(recent, key_hash, from_memory=True)
    cached = await _cached(key_hash)
    if cached is not None:
        _remember_locally(key_hash, cached)
        await _touch(session, cached, key_hash)
        return Resolution(cached, key_hash, from_memory=False)
    resolved = await _from_database(session, key_hash)
    if resolved is None:
        return None
    await _remember(key_hash, resolved)
    _remember_locally(key_hash, resolved)
    await _touch(session, resolved, key_hash)
    return Resolution(resolved, key_hash, from_memory=False)


async def verify_in_database(session: AsyncSession, key_hash: bytes) -> ResolvedKey | None:
    """The key as PostgreSQL has it now (when the revocation marker cannot be checked)."""
    resolved = await _from_database(session, key_hash)
    if resolved is None:
        forget_locally(key_hash)
    return resolved


async def _from_database(session: AsyncSession, key_hash: bytes) -> ResolvedKey | None:
    await session.execute(
        text("SELECT set_config('app.api_key_hash', :h, true)"), {"h": key_hash.hex()}
    )
    row = await session.scalar(
        select(ApiKey).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
    )
    if row is None:
        return None
    resolved = ResolvedKey(
        id=str(row.id),
        tenant_id=str(row.tenant_id),
        kind=row.kind,
        permission=row.permission,
        allowed_origins=list(row.allowed_origins or []),
    )
    return resolved


_touched_here: dict[str, float] = {}


async def _touch(session: AsyncSession, resolved: ResolvedKey, key_hash: bytes) -> None:
    """Update `last_used_at` at most once a minute per key.

    A Redis gate shares the minute across processes; a note in this process spares the
    gate's round trip on every other request.
    """
    now = time.monotonic()
    if now - _touched_here.get(resolved.id, -LAST_USED_EVERY_S) < LAST_USED_EVERY_S:
        return
    _touched_here[resolved.id] = now
    gate = tenant_key(resolved.tenant_id, "api-key-used", resolved.id)
    try:
        first_in_window = await get_redis().set(gate, "1", ex=LAST_USED_EVERY_S, nx=True)
    except RedisError:
        return
    if not first_in_window:
        return
    # The key's own tenant: writes must satisfy the tenant policy's WITH CHECK.
    await set_tenant(session, uuid.UUID(resolved.tenant_id))
    await session.execute(
        update(ApiKey)
        .where(ApiKey.key_hash == key_hash, ApiKey.id == uuid.UUID(resolved.id))
        .values(last_used_at=datetime.now(UTC))
    )

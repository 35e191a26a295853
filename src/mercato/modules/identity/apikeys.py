"""API keys: generation, the keyed hash they are found by, and their last use.

A key is `mk_live_` or `mk_test_` followed by 32 random bytes in base62. Only its
HMAC-SHA256 under the server secret is stored. Authentication finds the row by that hash
before any tenant is known (`access.resolve_key`); row-level security lets a transaction
see an api_key row only when it holds the tenant id or the key's own hash
(`app.api_key_hash`). Nothing about a key is copied to Redis: a process remembers the
keys it verified until PostgreSQL tells it they changed (`access`).
"""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import UTC, datetime

from redis.exceptions import RedisError
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.crypto import keyed_hash
from mercato.kernel.db import set_tenant
from mercato.kernel.redis import get_redis, tenant_key
from mercato.modules.identity.models import ApiKey

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
KEY_HASH_PURPOSE = "api-key"
MAX_KEY_LENGTH = 80
LAST_USED_EVERY_S = 60
PREFIX_LENGTH = 12  # "mk_live_" + 4 characters, safe to display


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


def plausible_key(value: str) -> bool:
    """Worth hashing and looking up: a key's prefix, no longer than any key can be."""
    return looks_like_key(value) and len(value) <= MAX_KEY_LENGTH


def hash_key(raw_key: str) -> bytes:
    return keyed_hash(raw_key, purpose=KEY_HASH_PURPOSE)


_touched_here: dict[str, float] = {}


async def touch(session: AsyncSession, key_id: str, tenant_id: str, key_hash: bytes) -> None:
    """Update `last_used_at` at most once a minute per key.

    A Redis gate shares the minute across processes; a note in this process spares the
    gate's round trip on every other request.
    """
    now = time.monotonic()
    if now - _touched_here.get(key_id, -LAST_USED_EVERY_S) < LAST_USED_EVERY_S:
        return
    _touched_here[key_id] = now
    gate = tenant_key(tenant_id, "api-key-used", key_id)
    try:
        first_in_window = await get_redis().set(gate, "1", ex=LAST_USED_EVERY_S, nx=True)
    except RedisError:
        return
    if not first_in_window:
        return
    # The key's own tenant: writes must satisfy the tenant policy's WITH CHECK.
    await set_tenant(session, uuid.UUID(tenant_id))
    await session.execute(
        update(ApiKey)
        .where(ApiKey.key_hash == key_hash, ApiKey.id == uuid.UUID(key_id))
        .values(last_used_at=datetime.now(UTC))
    )

"""The hosted feed: a public, unguessable, rotatable URL per tenant that Merchant Center
fetches on a schedule (`/feeds/{token}.xml`, and `.tsv`).

The URL is the only credential, so the token is 32 random bytes; it is stored sealed (staff
read the URL back) and as its SHA-256, by which an anonymous fetch finds its tenant. A plain
digest suffices for 256 random bits, and unlike a digest keyed with the server secret it
survives a rotation of `MERCATO_SECRET_KEY` (the sealed copy stays readable through
`MERCATO_PREVIOUS_SECRET_KEYS`).
Rotating replaces both at once: the old URL answers 404 from the next request on.

The fetch is anonymous, so it must be cheap: the feed is rendered once, inside one
REPEATABLE READ, READ ONLY transaction, into bytes whose SHA-256 is the strong ETag, and
kept in Redis for `MERCATO_HOSTED_FEED_CACHE_TTL_S` under a key holding the tenant and the
format (never the token, which rotates). Fetches within that time, conditional or not,
render nothing; a feed changes for Merchant Center at most that much later. A feed larger
than `CACHE_MAX_BYTES` is rendered for each fetch (once) and not kept.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from redis.exceptions import RedisError
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.crypto import seal, unseal
from mercato.kernel.db import get_database, set_local, set_tenant
from mercato.kernel.deps import RequestMeta
from mercato.kernel.logging import get_logger
from mercato.kernel.redis import get_redis, tenant_key
from mercato.kernel.security import TenantPrincipal
from mercato.modules.audit import record_audit
from mercato.modules.channels.feeds.render import stream_rss, stream_tsv
from mercato.modules.channels.feeds.source import feed_channel, valid_feed_items
from mercato.modules.channels.models import HostedFeed
from mercato.modules.channels.taxonomy import loaded_taxonomy
from mercato.settings import get_settings

log = get_logger("mercato.channels.hosted_feed")

TOKEN_PURPOSE = "hosted-feed-token"  # noqa: S105 - a key-derivation label, not a secret
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")
FeedFormat = Literal["xml", "tsv"]


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii")).digest()


def _seal(token: str) -> bytes:
    return seal(token.encode(), purpose=TOKEN_PURPOSE)


async def hosted_feed(session: AsyncSession, tenant_id: uuid.UUID) -> HostedFeed:
    """The tenant's feed row, created with a fresh token on first use."""
    token = _new_token()
    await session.execute(
        insert(HostedFeed)
        .values(tenant_id=tenant_id, token_hash=_token_hash(token), token_sealed=_seal(token))
        .on_conflict_do_nothing(index_elements=[HostedFeed.tenant_id])
    )
    feed = await session.get(HostedFeed, tenant_id, populate_existing=True)
    assert feed is not None
    return feed


def feed_urls(feed: HostedFeed) -> tuple[str, str]:
    token = unseal(feed.token_sealed, purpose=TOKEN_PURPOSE).decode()
    base = f"{get_settings().public_url.rstrip('/')}/feeds/{token}"
    return f"{base}.xml", f"{base}.tsv"


async def rotate_feed_token(
    session: AsyncSession, principal: TenantPrincipal, meta: RequestMeta
) -> HostedFeed:
    """Give the feed a new URL; the old one stops working when this commits."""
    feed = await hosted_feed(session, principal.tenant_id)
    token = _new_token()
    feed.token_hash, feed.token_sealed = _token_hash(token), _seal(token)
    feed.rotated_at = datetime.now(UTC)
    await session.flush()
    await record_audit(session, actor=principal, action="feed.token_rotated", meta=meta)
    return feed


async def find_feed_tenant(session: AsyncSession, token: str) -> uuid.UUID | None:
    """The tenant whose current feed token this is; None for anything else."""
    if not TOKEN_SHAPE.match(token):
        return None
    digest = _token_hash(token)
    await set_local(session, "app.feed_token_hash", digest.hex())
    tenant_id: uuid.UUID | None = await session.scalar(
        select(HostedFeed.tenant_id).where(HostedFeed.token_hash == digest)
    )
    return tenant_id


CACHE_MAX_BYTES = 64 * 1_048_576
_HEADER_END = b"\n"


@dataclass(frozen=True)
class RenderedFeed:
    etag: str
    last_modified: datetime
    body: bytes


def _cache_key(tenant_id: uuid.UUID, feed_format: FeedFormat) -> str:
    return tenant_key(tenant_id, "hosted-feed", feed_format)


async def rendered_feed(tenant_id: uuid.UUID, feed_format: FeedFormat) -> RenderedFeed:
    """The feed, from the cache or rendered once now (and cached when small enough)."""
    ttl = get_settings().hosted_feed_cache_ttl_s
    key = _cache_key(tenant_id, feed_format)
    if ttl and (cached := await _cached(key)) is not None:
        return cached
    feed = await _render_once(tenant_id, feed_format)
    if ttl and len(feed.body) <= CACHE_MAX_BYTES:
        header = json.dumps({"etag": feed.etag, "last_modified": feed.last_modified.isoformat()})
        try:
            await get_redis().set(key, header.encode() + _HEADER_END + feed.body, ex=ttl)
        except RedisError as exc:
            log.warning("hosted_feed_cache_unavailable", error=str(exc))
    return feed


async def _cached(key: str) -> RenderedFeed | None:
    try:
        raw = await get_redis().get(key)
    except RedisError as exc:
        log.warning("hosted_feed_cache_unavailable", error=str(exc))
        return None
    if not isinstance(raw, bytes):
        return None
    header, _, body = raw.partition(_HEADER_END)
    meta = json.loads(header)
    return RenderedFeed(meta["etag"], datetime.fromisoformat(meta["last_modified"]), body)


async def _render_once(tenant_id: uuid.UUID, feed_format: FeedFormat) -> RenderedFeed:
    async with get_database().sessionmaker() as session, session.begin():
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        await set_tenant(session, tenant_id)
        body = b"".join([chunk async for chunk in await _render(session, tenant_id, feed_format)])
    etag = f'"{hashlib.sha256(body).hexdigest()[:40]}"'
    last_modified = (await _note_etag(tenant_id, feed_format, etag)).astimezone(UTC)
    return RenderedFeed(etag, last_modified, body)


async def _render(
    session: AsyncSession, tenant_id: uuid.UUID, feed_format: FeedFormat
) -> AsyncIterator[bytes]:
    taxonomy = await loaded_taxonomy(session)
    items = valid_feed_items(session, tenant_id, taxonomy.known_ids if taxonomy else None)
    if feed_format == "tsv":
        return stream_tsv(items)
    return stream_rss(items, await feed_channel(session, tenant_id))


async def _note_etag(tenant_id: uuid.UUID, feed_format: FeedFormat, etag: str) -> datetime:
    """When the feed's content last changed: kept per format, moved on when the ETag does."""
    async with get_database().tenant_session(tenant_id) as session:
        await hosted_feed(session, tenant_id)
        feed = await session.get(
            HostedFeed, tenant_id, with_for_update=True, populate_existing=True
        )
        assert feed is not None
        now = datetime.now(UTC).replace(microsecond=0)
        if feed_format == "xml":
            if feed.xml_etag != etag or feed.xml_changed_at is None:
                feed.xml_etag, feed.xml_changed_at = etag, now
            return feed.xml_changed_at
        if feed.tsv_etag != etag or feed.tsv_changed_at is None:
            feed.tsv_etag, feed.tsv_changed_at = etag, now
        return feed.tsv_changed_at

"""Which browser origins may call a tenant's API: the origins listed on its publishable keys.

The kernel's CORS layer asks `browser_origin_allowed` (installed below with
`allow_key_origins_with`) about every cross-origin request the deployment's own lists
(`MERCATO_CORS_ORIGINS`, `_CREDENTIALED_ORIGINS`) do not cover:

- an actual request is allowed when its credential is a live publishable key of the
  tenant in the path that lists the origin — the key's own origins, nothing else;
- a preflight carries no key (browsers send `Access-Control-Request-Headers: x-api-key`,
  not the key), so it is allowed when the origin is listed on *any* live publishable key
  of the tenant in the path, and that tenant is open. The actual request that follows is
  still checked against its own key, here and by the route (403 `origin-not-allowed`).

Secret keys never bring origins. Both answers come from this process's memory (`access`),
kept true by PostgreSQL's notifications: a key created, revoked or changed (an origin
removed) notifies its tenant, which drops the tenant's remembered origins and keys, so
the next request sees the change. While notifications do not flow, every check reads
PostgreSQL.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy import func, select
from starlette.datastructures import Headers
from starlette.types import Scope

from mercato.kernel.cors import allow_key_origins_with
from mercato.kernel.db import get_database
from mercato.modules.identity import access, apikeys
from mercato.modules.identity.auth import credential_in, tenant_refusal
from mercato.modules.identity.models import ApiKey

TENANT_PATH = re.compile(r"^/api/v1/tenants/([0-9a-fA-F-]{32,36})(?:/|$)")


def _path_tenant(path: str) -> uuid.UUID | None:
    match = TENANT_PATH.match(path)
    if match is None:
        return None
    try:
        return uuid.UUID(match.group(1))
    except ValueError:
        return None


async def tenant_browser_origins(tenant_id: uuid.UUID) -> frozenset[str]:
    """The origins listed on the tenant's live publishable keys; none for a closed tenant."""
    if access.memory.usable():
        found, remembered = access.memory.browser_origins.get(tenant_id)
        if found and remembered is not None:
            return remembered
    start = access.memory.seq
    async with get_database().tenant_session(tenant_id) as session:
        tenant = await access.tenant_record(session, tenant_id)
        origins: frozenset[str] = frozenset()
        if tenant_refusal(tenant, None) is None:
            listed = await session.scalars(
                select(func.unnest(ApiKey.allowed_origins))
                .where(ApiKey.kind == "publishable", ApiKey.revoked_at.is_(None))
                .distinct()
            )
            origins = frozenset(listed)
    if access.memory.unchanged_since(start, tenant_id):
        access.memory.browser_origins.put(tenant_id, origins)
    return origins


async def _key_lists_origin(raw: str, tenant_id: uuid.UUID, origin: str) -> bool:
    async with get_database().session() as session:
        found = await access.resolve_key(session, apikeys.hash_key(raw))
    if found is None:
        return False
    resolved = found[0]
    return (
        resolved.kind == "publishable"
        and resolved.tenant_id == str(tenant_id)
        and origin in resolved.allowed_origins
    )


async def browser_origin_allowed(scope: Scope, origin: str, preflight: bool) -> bool:
    """Whether a credential-less cross-origin call from `origin` may reach this request."""
    tenant_id = _path_tenant(scope["path"])
    if tenant_id is None:
        return False
    if preflight:
        return origin in await tenant_browser_origins(tenant_id)
    raw = credential_in(Headers(scope=scope))
    return (
        raw is not None
        and apikeys.plausible_key(raw)
        and await _key_lists_origin(raw, tenant_id, origin)
    )


allow_key_origins_with(browser_origin_allowed)

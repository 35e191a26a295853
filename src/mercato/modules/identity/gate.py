"""The gate of lean routes: a tenant caller this process can vouch for from memory alone.

`kernel.lean` answers the hottest requests before FastAPI; before one may be answered, its
caller must be authenticated, scoped to the tenant in the path, allowed the route's
permission and within its rate-limit budgets — exactly what `require()` does, but from
this process's memory only (`access`), and with the rate limit sent in the same Redis
round trip as the handler's own commands. Whenever memory cannot answer (a caller not
seen lately, notifications not flowing, a refusal of any kind) the gate lets the request
fall through to the ordinary route, which asks PostgreSQL and produces the refusal.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

from mercato.kernel.lean import LeanRequest
from mercato.kernel.permissions import Permission
from mercato.kernel.ratelimit import Decision
from mercato.kernel.redis import AnyPipeline, get_redis
from mercato.kernel.security import TenantPrincipal
from mercato.modules.identity import access, apikeys
from mercato.modules.identity.auth import (
    CHARGED_NOTE,
    as_member,
    key_principal,
    limiter,
    origin_allowed,
    staff_principal,
    tenant_buckets,
    tenant_refusal,
)
from mercato.modules.identity.tokens import remembered_claims
from mercato.settings import get_settings


def remembered_principal(request: LeanRequest) -> TenantPrincipal | None:
    """The tenant principal of the request if memory alone can vouch for it, else None."""
    if not access.memory.usable():
        return None
    raw_key = request.headers.get("x-api-key", "").strip()
    if raw_key:
        return _remembered_key(request, raw_key)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return _remembered_member(request.tenant_id, token.strip())
    return None


def _remembered_key(request: LeanRequest, raw: str) -> TenantPrincipal | None:
    if not apikeys.plausible_key(raw):
        return None
    found, resolved = access.memory.keys.get(apikeys.hash_key(raw))
    if not found or resolved is None or resolved.tenant_id != str(request.tenant_id):
        return None
    found, tenant = access.memory.tenants.get(request.tenant_id)
    if not found or tenant_refusal(tenant, None) is not None:
        return None
    if not origin_allowed(resolved, request.headers.get("origin")):
        return None
    return key_principal(resolved)


def _remembered_member(tenant_id: uuid.UUID, token: str) -> TenantPrincipal | None:
    claims = remembered_claims(token)
    if claims is None or access.memory.revoked_sessions.get(claims.session_id)[0]:
        return None
    found, staff = access.memory.staff.get((tenant_id, claims.user_id))
    if not found or staff is None or not staff.account_exists or staff.role is None:
        return None
    found, tenant = access.memory.tenants.get(tenant_id)
    if not found or tenant_refusal(tenant, staff.role) is not None:
        return None
    return as_member(staff_principal(claims), tenant_id, staff)


async def pass_gate(
    request: LeanRequest,
    *,
    permission: Permission,
    route_path: str,
    queue: Callable[[AnyPipeline], None] | None = None,
) -> tuple[TenantPrincipal, Decision | None, Any] | None:
    """Vouch for the caller, charge its budgets and run `queue`'s commands: one round trip.

    Returns the principal, the decision whose headers the answer carries and the reply of
    the queued commands (None without `queue`); None to fall through (the charge, if
    made, is noted for the route so it is not made twice). Without `queue` and with rate
    limits off, Redis is not asked at all.
    """
    principal = remembered_principal(request)
    if principal is None or not principal.can(permission):
        return None
    limits_on = get_settings().rate_limit_enabled
    buckets = tenant_buckets(request.scope["method"], route_path, request.client_ip, principal)
    pipe = get_redis().pipeline(transaction=False)
    if limits_on:
        limiter().queue(pipe, buckets)
    if queue is not None:
        queue(pipe)
    try:
        replies = await pipe.execute(raise_on_error=False)
    except RedisError:
        return None
    if any(isinstance(reply, Exception) for reply in replies):
        return None
    decision: Decision | None = None
    if limits_on:
        decisions = limiter().decisions(buckets, replies[0])
        request.note(CHARGED_NOTE, decisions)
        live = [d for d in decisions if d is not None]
        if any(not d.allowed for d in live):
            return None
        decision = min(live, key=lambda d: d.remaining) if live else None
    return principal, decision, replies[-1] if queue is not None else None

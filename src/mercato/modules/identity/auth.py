"""The request principal: one place that turns credentials into a `Principal`.

Routes declare what they need:

    principal: Annotated[TenantPrincipal, require("catalog:write")]

which authenticates (staff JWT or API key), checks the caller may see the tenant in the
path (otherwise 404, never revealing it exists), scopes the request's transaction to it
(`SET LOCAL app.tenant_id`, applied when the transaction first touches PostgreSQL),
applies rate limits, and finally checks the permission (403).

What a tenant request needs to know about its caller comes from this process's memory
(`access`), kept true by PostgreSQL's notifications; the one network round trip a
request makes before its route runs is the rate limit's, in Redis.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated, Any

import structlog
from fastapi import Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Headers

from mercato.kernel.db import scope_transaction, set_actor
from mercato.kernel.deps import DbSession, client_ip
from mercato.kernel.errors import DomainError, Forbidden, NotFound, Unauthorized
from mercato.kernel.permissions import Permission
from mercato.kernel.ratelimit import Decision, Limit, RateLimiter, enforce
from mercato.kernel.redis import get_redis, tenant_key
from mercato.kernel.security import Principal, PrincipalKind, TenantPrincipal
from mercato.modules.identity import access, apikeys
from mercato.modules.identity.limits import UNMETERED_WRITE_GROUPS, limit_for, route_group
from mercato.modules.identity.models import StaffUser
from mercato.modules.identity.permissions import permissions_for_key, permissions_for_role
from mercato.modules.identity.tokens import AccessClaims, verify_access_token
from mercato.settings import get_settings

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TenantSuspended(Forbidden):
    slug, title = "tenant-suspended", "This tenant is suspended"


class OriginNotAllowed(Forbidden):
    slug, title = "origin-not-allowed", "This key may not be used from this origin"


def credential_in(headers: Headers) -> str | None:
    """The request's credential: its `X-API-Key`, else its bearer token."""
    key = headers.get("x-api-key")
    if key:
        return key.strip()
    authorization = headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _require_credential(request: Request) -> str:
    credential = credential_in(request.headers)
    if credential is None:
        raise Unauthorized("Send a bearer access token or an X-API-Key header")
    return credential


async def _live_key(
    session: AsyncSession, raw: str
) -> tuple[access.ResolvedKey, access.TenantRecord | None, bytes]:
    if not apikeys.plausible_key(raw):
        raise Unauthorized("The API key is not valid or has been revoked")
    key_hash = apikeys.hash_key(raw)
    found = await access.resolve_key(session, key_hash)
    if found is None:
        raise Unauthorized("The API key is not valid or has been revoked")
    return found[0], found[1], key_hash


def origin_allowed(resolved: access.ResolvedKey, origin: str | None) -> bool:
    """Publishable keys are used from browsers, only on the origins listed on the key."""
    return resolved.kind != "publishable" or (
        origin is not None and origin in resolved.allowed_origins
    )


def _check_origin(request: Request, resolved: access.ResolvedKey) -> None:
    origin = request.headers.get("origin")
    if not origin_allowed(resolved, origin):
        raise OriginNotAllowed(f"Origin {origin or '(none)'} is not allowed for this key")


def key_principal(resolved: access.ResolvedKey) -> TenantPrincipal:
    structlog.contextvars.bind_contextvars(api_key_id=resolved.id)
    return TenantPrincipal(
        kind=PrincipalKind.api_key,
        subject_id=uuid.UUID(resolved.id),
        tenant_id=uuid.UUID(resolved.tenant_id),
        permissions=permissions_for_key(resolved.kind, resolved.permission),
        key_kind=resolved.kind,
    )


async def _live_claims(session: AsyncSession, token: str) -> AccessClaims:
    """Verified claims of a token whose session was not logged out."""
    claims = await verify_access_token(token)
    if await access.session_revoked(session, claims.session_id):
        raise Unauthorized("The access token has been revoked")
    return claims


def staff_principal(claims: AccessClaims) -> Principal:
    structlog.contextvars.bind_contextvars(user_id=str(claims.user_id))
    return Principal(
        kind=PrincipalKind.user,
        subject_id=claims.user_id,
        auth_time=claims.auth_time,
        token_id=claims.jti,
        session_id=claims.session_id,
        token_expires_at=claims.expires_at,
    )


async def authenticate(request: Request, session: AsyncSession) -> Principal:
    """Resolve the request's credential to an untenanted principal, or raise 401."""
    credential = _require_credential(request)
    if apikeys.looks_like_key(credential):
        resolved, _, key_hash = await _live_key(session, credential)
        _check_origin(request, resolved)
        await apikeys.touch(session, resolved.id, resolved.tenant_id, key_hash)
        return key_principal(resolved)
    claims = await _live_claims(session, credential)
    user = await session.get(StaffUser, claims.user_id)
    if user is None:
        raise Unauthorized("The account no longer exists")
    principal = staff_principal(claims)
    return dataclasses.replace(principal, is_platform_admin=user.is_platform_admin)


def tenant_refusal(tenant: access.TenantRecord | None, role: str | None) -> DomainError | None:
    """404 for a tenant that does not exist (or is deleted), 403 when suspended."""
    if tenant is None or tenant.status == "deleted":
        return NotFound("No such tenant")
    if tenant.status == "suspended" and role != "owner":
        return TenantSuspended("The tenant is suspended; only its owners can use it")
    return None


def _tenant_open(tenant: access.TenantRecord | None, role: str | None) -> None:
    refusal = tenant_refusal(tenant, role)
    if refusal is not None:
        raise refusal


async def enter_tenant(
    session: AsyncSession, principal: Principal, tenant_id: uuid.UUID
) -> TenantPrincipal:
    """Scope the transaction to `tenant_id` if the principal may see it, else 404."""
    await scope_transaction(session, tenant_id, principal.user_id)
    if principal.kind is PrincipalKind.api_key:
        if not isinstance(principal, TenantPrincipal) or principal.tenant_id != tenant_id:
            raise NotFound("No such tenant")
        structlog.contextvars.bind_contextvars(tenant_id=str(tenant_id))
        return principal
    assert principal.user_id is not None  # a staff principal always names its user
    staff, tenant = await access.staff_access(session, tenant_id, principal.user_id)
    if not staff.account_exists:
        raise Unauthorized("The account no longer exists")
    if staff.role is None:
        raise NotFound("No such tenant")
    _tenant_open(tenant, staff.role)
    structlog.contextvars.bind_contextvars(tenant_id=str(tenant_id))
    return as_member(principal, tenant_id, staff)


def as_member(
    principal: Principal, tenant_id: uuid.UUID, staff: access.StaffAccess
) -> TenantPrincipal:
    """A staff principal inside one tenant, with the permissions of its role there."""
    assert staff.role is not None
    fields = {f.name: getattr(principal, f.name) for f in dataclasses.fields(principal)}
    fields.update(
        permissions=permissions_for_role(staff.role),
        tenant_id=tenant_id,
        role=staff.role,
        is_platform_admin=staff.is_platform_admin,
    )
    return TenantPrincipal(**fields)


async def _tenant_key_principal(
    request: Request, session: AsyncSession, raw: str, tenant_id: uuid.UUID
) -> TenantPrincipal:
    await scope_transaction(session, tenant_id)
    resolved, tenant, key_hash = await _live_key(session, raw)
    if resolved.tenant_id != str(tenant_id):
        raise NotFound("No such tenant")
    _tenant_open(tenant, None)
    _check_origin(request, resolved)
    await apikeys.touch(session, resolved.id, resolved.tenant_id, key_hash)
    structlog.contextvars.bind_contextvars(tenant_id=str(tenant_id))
    return key_principal(resolved)


async def _tenant_staff_principal(
    session: AsyncSession, token: str, tenant_id: uuid.UUID
) -> TenantPrincipal:
    claims = await verify_access_token(token)
    await scope_transaction(session, tenant_id, claims.user_id)
    if await access.session_revoked(session, claims.session_id):
        raise Unauthorized("The access token has been revoked")
    return await enter_tenant(session, staff_principal(claims), tenant_id)


_limiters: dict[tuple[int, bool], RateLimiter] = {}


def limiter() -> RateLimiter:
    """One limiter per Redis client (registering the script hashes it every time)."""
    redis, fail_open = get_redis(), get_settings().rate_limit_fail_open
    key = (id(redis), fail_open)
    limiter = _limiters.get(key)
    if limiter is None or limiter.redis is not redis:
        limiter = _limiters[key] = RateLimiter(redis, fail_open=fail_open)
    return limiter


def _route_path(request: Request) -> str:
    path = getattr(request.scope.get("route"), "path", None)
    return str(path) if path is not None else str(request.scope["path"])


def tenant_buckets(
    method: str, route_path: str, ip: str, principal: Principal
) -> list[tuple[str, Limit]]:
    """The caller's bucket for the route group, and the tenant's for merchant writes.

    A publishable key is shared by every shopper of a storefront: its bucket is per
    client address, so one abusive script cannot spend every shopper's budget.
    """
    group = route_group(route_path)
    caller = principal.actor
    if principal.key_kind == "publishable":
        caller = f"{caller}:{ip}"
    buckets = [(tenant_key(principal.tenant_id, "rl", group, caller), limit_for(group))]
    if method not in READ_METHODS and group not in UNMETERED_WRITE_GROUPS:
        buckets.append(
            (tenant_key(principal.tenant_id, "rl", "tenant-writes"), limit_for("tenant_writes"))
        )
    return buckets


# A lean handler that already charged the budgets leaves the decisions here (scope state).
CHARGED_NOTE = "mercato.rate_decisions"


async def limit_tenant_request(request: Request, principal: Principal) -> Decision | None:
    """Charge the caller's and the tenant's budgets in one Redis round trip; 429 when out.

    Returns the tightest decision (its headers go on the response), None when limits are
    off or Redis is down and limits fail open.
    """
    if not get_settings().rate_limit_enabled:
        return None
    charged = request.scope.get("state", {}).get(CHARGED_NOTE)
    if charged is None:
        buckets = tenant_buckets(
            request.method, _route_path(request), client_ip(request), principal
        )
        charged = await limiter().hit_many(buckets)
    return tightest(charged)


def tightest(decisions: list[Decision | None]) -> Decision | None:
    """429 if any budget refused; else the decision whose headers the response carries."""
    live = [decision for decision in decisions if decision is not None]
    for decision in live:
        enforce(decision)
    return min(live, key=lambda decision: decision.remaining) if live else None


def _advertise(response: Response, decision: Decision | None) -> None:
    """Send the headers of the tightest limit that applied."""
    if decision is not None:
        response.headers.update(decision.headers())


async def limit_auth_request(request: Request, response: Response) -> None:
    """Per-client-IP budget for every /api/v1/auth route (a router dependency)."""
    if not get_settings().rate_limit_enabled:
        return
    decision = await limiter().hit(
        tenant_key(None, "rl", "auth", client_ip(request)), limit_for("auth")
    )
    enforce(decision)
    _advertise(response, decision)


async def limit_login_attempt(request: Request, email: str) -> None:
    """Ten login attempts a minute per client IP and e-mail address."""
    if not get_settings().rate_limit_enabled:
        return
    decision = await limiter().hit(
        tenant_key(None, "rl", "login", client_ip(request), email.strip().lower()),
        limit_for("login"),
    )
    enforce(decision)


def require(permission: Permission) -> Any:
    """Dependency for tenant routes (`/api/v1/tenants/{tenant_id}/…`) needing `permission`."""

    async def tenant_principal(
        request: Request, response: Response, tenant_id: uuid.UUID, session: DbSession
    ) -> TenantPrincipal:
        credential = _require_credential(request)
        if apikeys.looks_like_key(credential):
            principal = await _tenant_key_principal(request, session, credential, tenant_id)
        else:
            principal = await _tenant_staff_principal(session, credential, tenant_id)
        _advertise(response, await limit_tenant_request(request, principal))
        principal.require(permission)
        return principal

    tenant_principal.permission = permission  # type: ignore[attr-defined]  # read by tests
    return Depends(tenant_principal)


async def _current_user(request: Request, session: DbSession) -> Principal:
    principal = await authenticate(request, session)
    if principal.kind is not PrincipalKind.user:
        raise Forbidden("This needs a staff user's access token, not an API key")
    assert principal.user_id is not None
    await set_actor(session, principal.user_id)
    return principal


CurrentUser = Annotated[Principal, Depends(_current_user)]

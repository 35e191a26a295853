"""The request principal: one place that turns credentials into a `Principal`.

Routes declare what they need:

    principal: Annotated[Principal, require("catalog:write")]

which authenticates (staff JWT or API key), checks the caller may see the tenant in the
path (otherwise 404, never revealing it exists), scopes the request's transaction to it
(`SET LOCAL app.tenant_id`), applies rate limits, and finally checks the permission (403).
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from fastapi import Depends, Request, Response
from redis.exceptions import RedisError
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import set_actor
from mercato.kernel.deps import DbSession, client_ip
from mercato.kernel.errors import Forbidden, NotFound, Unauthorized
from mercato.kernel.logging import get_logger
from mercato.kernel.ratelimit import Decision, RateLimiter, enforce
from mercato.kernel.redis import get_redis, tenant_key
from mercato.kernel.security import Principal, PrincipalKind
from mercato.modules.identity import apikeys
from mercato.modules.identity.limits import UNMETERED_WRITE_GROUPS, limit_for, route_group
from mercato.modules.identity.models import Membership, StaffUser
from mercato.modules.identity.permissions import permissions_for_key, permissions_for_role
from mercato.modules.identity.tokens import verify_access_token
from mercato.settings import get_settings

log = get_logger("mercato.identity.auth")

READ_METHODS = {"GET", "HEAD", "OPTIONS"}


class TenantSuspended(Forbidden):
    slug, title = "tenant-suspended", "This tenant is suspended"


class OriginNotAllowed(Forbidden):
    slug, title = "origin-not-allowed", "This key may not be used from this origin"


def _credential(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    authorization = request.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def revoked_jti_key(jti: str) -> str:
    return tenant_key(None, "revoked-jti", jti)


@dataclass(frozen=True)
class _RevocationCheck:
    """A Redis key whose presence means the credential was revoked, not yet looked at."""

    marker: str
    key_hash: bytes | None = None  # set for an API key remembered in this process


async def authenticate(request: Request, session: AsyncSession) -> Principal:
    """Resolve the request's credential to an untenanted principal, or raise 401."""
    principal, check = await _authenticate(request, session)
    if check is not None:
        try:
            revoked: bool | None = bool(await get_redis().exists(check.marker))
        except RedisError:
            revoked = None
        await _settle(session, check, revoked)
    return principal


async def _authenticate(
    request: Request, session: AsyncSession, *, account_with_tenant: bool = False
) -> tuple[Principal, _RevocationCheck | None]:
    """The principal, and the revocation check still owed before trusting it.

    Tenant routes fold that check into their rate-limit round trip (`_limit_tenant_request`)
    and, with `account_with_tenant`, leave the staff account's lookup to `enter_tenant`,
    which reads it together with the membership.
    """
    credential = _credential(request)
    if credential is None:
        raise Unauthorized("Send a bearer access token or an X-API-Key header")
    if apikeys.looks_like_key(credential):
        return await _key_principal(request, session, credential)
    claims = await verify_access_token(credential)
    principal = Principal(
        kind=PrincipalKind.user,
        subject_id=claims.user_id,
        auth_time=claims.auth_time,
        token_id=claims.jti,
        session_id=claims.session_id,
        token_expires_at=claims.expires_at,
    )
    check = _RevocationCheck(revoked_jti_key(claims.jti))
    if account_with_tenant:
        return principal, check
    user = await session.get(StaffUser, claims.user_id)
    if user is None:
        raise Unauthorized("The account no longer exists")
    structlog.contextvars.bind_contextvars(user_id=str(user.id))
    return dataclasses.replace(principal, is_platform_admin=user.is_platform_admin), check


async def _settle(session: AsyncSession, check: _RevocationCheck, revoked: bool | None) -> None:
    """Act on a revocation check: 401 if revoked; if Redis could not say, fall back."""
    if revoked is None:
        if check.key_hash is None:
            # Access tokens live 15 minutes; refresh families are revoked in PostgreSQL.
            log.warning("token_denylist_unavailable")
            return
        # A key remembered in this process: PostgreSQL decides.
        if await apikeys.verify_in_database(session, check.key_hash) is None:
            raise Unauthorized("The API key is not valid or has been revoked")
        return
    if revoked:
        if check.key_hash is None:
            raise Unauthorized("The access token has been revoked")
        apikeys.forget_locally(check.key_hash)
        raise Unauthorized("The API key is not valid or has been revoked")


async def _key_principal(
    request: Request, session: AsyncSession, raw: str
) -> tuple[Principal, _RevocationCheck | None]:
    resolution = await apikeys.resolve_fast(session, raw)
    if resolution is None:
        raise Unauthorized("The API key is not valid or has been revoked")
    resolved = resolution.key
    if resolved.kind == "publishable":
        origin = request.headers.get("origin")
        if origin is None or origin not in resolved.allowed_origins:
            raise OriginNotAllowed(f"Origin {origin or '(none)'} is not allowed for this key")
    structlog.contextvars.bind_contextvars(api_key_id=resolved.id)
    principal = Principal(
        kind=PrincipalKind.api_key,
        subject_id=uuid.UUID(resolved.id),
        tenant_id=uuid.UUID(resolved.tenant_id),
        permissions=permissions_for_key(resolved.kind, resolved.permission),
        key_kind=resolved.kind,
    )
    check = None
    if resolution.from_memory:
        check = _RevocationCheck(
            apikeys.revoked_marker_key(resolved.tenant_id, resolved.id), resolution.key_hash
        )
    return principal, check


async def enter_tenant(
    session: AsyncSession,
    principal: Principal,
    tenant_id: uuid.UUID,
    *,
    account_loaded: bool = True,
) -> Principal:
    """Scope the transaction to `tenant_id` if the principal may see it, else 404.

    With `account_loaded=False` (a staff principal straight from its token) the account is
    checked here, in the membership's round trip: 401 when it no longer exists.
    """
    if principal.kind is PrincipalKind.api_key and principal.tenant_id != tenant_id:
        raise NotFound("No such tenant")
    # One round trip: the tenant's status, and the transaction scoped to it (and its user).
    status = await session.scalar(
        text(
            "SELECT status, set_config('app.tenant_id', :tenant, true), "
            "set_config('app.user_id', :user, true) FROM tenant WHERE id = CAST(:tenant AS uuid)"
        ),
        {"tenant": str(tenant_id), "user": str(principal.user_id or "")},
    )
    if status is None or status == "deleted":
        raise NotFound("No such tenant")
    role: str | None = None
    permissions = principal.permissions
    if principal.kind is PrincipalKind.user and not account_loaded:
        account = (
            await session.execute(
                select(StaffUser.is_platform_admin, Membership.role)
                .outerjoin(
                    Membership,
                    (Membership.tenant_id == tenant_id) & (Membership.user_id == StaffUser.id),
                )
                .where(StaffUser.id == principal.user_id)
            )
        ).first()
        if account is None:
            raise Unauthorized("The account no longer exists")
        structlog.contextvars.bind_contextvars(user_id=str(principal.user_id))
        principal = dataclasses.replace(principal, is_platform_admin=account.is_platform_admin)
        role = account.role
        if role is None:
            raise NotFound("No such tenant")
        permissions = permissions_for_role(role)
    elif principal.kind is PrincipalKind.user:
        role = await session.scalar(
            select(Membership.role).where(
                Membership.tenant_id == tenant_id, Membership.user_id == principal.user_id
            )
        )
        if role is None:
            raise NotFound("No such tenant")
        permissions = permissions_for_role(role)
    if status == "suspended" and role != "owner":
        raise TenantSuspended("The tenant is suspended; only its owners can use it")
    structlog.contextvars.bind_contextvars(tenant_id=str(tenant_id))
    return dataclasses.replace(principal, permissions=permissions, tenant_id=tenant_id, role=role)


def _route_path(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", request.url.path))


_limiters: dict[tuple[int, bool], RateLimiter] = {}


def _limiter() -> RateLimiter:
    """One limiter per Redis client (registering the script hashes it every time)."""
    redis, fail_open = get_redis(), get_settings().rate_limit_fail_open
    key = (id(redis), fail_open)
    limiter = _limiters.get(key)
    if limiter is None or limiter.redis is not redis:
        limiter = _limiters[key] = RateLimiter(redis, fail_open=fail_open)
    return limiter


async def _limit_tenant_request(
    request: Request,
    response: Response,
    principal: Principal,
    session: AsyncSession,
    check: _RevocationCheck | None = None,
) -> None:
    """The caller's budget and the credential's revocation check, in one Redis round trip."""
    enabled = get_settings().rate_limit_enabled
    group = route_group(_route_path(request))
    hits = []
    if enabled:
        hits.append(
            (tenant_key(principal.tenant_id, "rl", group, principal.actor), limit_for(group))
        )
    limiter = _limiter()
    decisions, present = await limiter.hit_with_checks(
        hits, [check.marker] if check is not None else []
    )
    if check is not None:
        await _settle(session, check, None if present is None else present[0])
    if not enabled:
        return
    caller = decisions[0]
    enforce(caller)
    if request.method not in READ_METHODS and group not in UNMETERED_WRITE_GROUPS:
        tenant_writes = await limiter.hit(
            tenant_key(principal.tenant_id, "rl", "tenant-writes"), limit_for("tenant_writes")
        )
        enforce(tenant_writes)
        decisions.append(tenant_writes)
    _advertise(response, decisions)


def _advertise(response: Response, decisions: list[Decision | None]) -> None:
    """Send the headers of the tightest limit that applied."""
    live = [d for d in decisions if d is not None]
    if live:
        tightest = min(live, key=lambda d: d.remaining)
        response.headers.update(tightest.headers())


async def limit_auth_request(request: Request, response: Response) -> None:
    """Per-client-IP budget for every /api/v1/auth route (a router dependency)."""
    if not get_settings().rate_limit_enabled:
        return
    decision = await _limiter().hit(
        tenant_key(None, "rl", "auth", client_ip(request)), limit_for("auth")
    )
    enforce(decision)
    _advertise(response, [decision])


async def limit_login_attempt(request: Request, email: str) -> None:
    """Ten login attempts a minute per client IP and e-mail address."""
    if not get_settings().rate_limit_enabled:
        return
    decision = await _limiter().hit(
        tenant_key(None, "rl", "login", client_ip(request), email.strip().lower()),
        limit_for("login"),
    )
    enforce(decision)


def require(permission: str) -> Any:
    """Dependency for tenant routes (`/api/v1/tenants/{tenant_id}/…`) needing `permission`."""

    async def tenant_principal(
        request: Request, response: Response, tenant_id: uuid.UUID, session: DbSession
    ) -> Principal:
        principal, check = await _authenticate(request, session, account_with_tenant=True)
        principal = await enter_tenant(session, principal, tenant_id, account_loaded=False)
        await _limit_tenant_request(request, response, principal, session, check)
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

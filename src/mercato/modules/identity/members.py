"""Tenant members: invite by e-mail, change roles, remove (each with step-up).

Rules: nobody grants a role above their own; only owners grant or touch owners; the last
owner can be neither demoted nor removed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import Conflict, NotFound
from mercato.kernel.permissions import Permission
from mercato.kernel.security import PermissionDenied, Principal, TenantPrincipal
from mercato.modules.audit import record_audit
from mercato.modules.identity.invitations import invite
from mercato.modules.identity.models import Invitation, Membership, StaffUser
from mercato.modules.identity.permissions import Role, role_rank


class LastOwner(Conflict):
    slug, title = "last-owner", "A tenant must keep at least one owner"


@dataclass(frozen=True)
class Member:
    user_id: uuid.UUID | None
    email: str
    name: str | None
    role: str
    status: str
    created_at: datetime


def _check_grant(principal: Principal, role: str) -> None:
    if role == Role.owner and not principal.can(Permission.MEMBERS_OWNERS):
        raise PermissionDenied("Only an owner can make someone an owner")
    if principal.role is not None and role_rank(role) > role_rank(principal.role):
        raise PermissionDenied("You cannot grant a role above your own")


async def list_members(session: AsyncSession, principal: Principal) -> list[Member]:
    """The tenant's members and open invitations.

    Filtered on the tenant explicitly: row-level security also shows the caller their own
    memberships in other tenants, which are not members of this one.
    """
    principal.require(Permission.MEMBERS_READ)
    members = [
        Member(user.id, user.email, user.name, membership.role, "active", membership.created_at)
        for membership, user in (
            await session.execute(
                select(Membership, StaffUser)
                .join(StaffUser, StaffUser.id == Membership.user_id)
                .where(Membership.tenant_id == principal.tenant_id)
                .order_by(Membership.created_at)
            )
        ).all()
    ]
    invited = await session.scalars(
        select(Invitation)
        .where(Invitation.tenant_id == principal.tenant_id, Invitation.accepted_at.is_(None))
        .order_by(Invitation.created_at)
    )
    members += [Member(None, i.email, None, i.role, "invited", i.created_at) for i in invited]
    return members


async def member_emails(
    session: AsyncSession, tenant_id: uuid.UUID, minimum_role: str
) -> list[str]:
    """E-mail addresses of the tenant's staff whose role is at least `minimum_role`, sorted."""
    rows = await session.execute(
        select(StaffUser.email, Membership.role)
        .join(Membership, Membership.user_id == StaffUser.id)
        .where(Membership.tenant_id == tenant_id)
    )
    floor = role_rank(minimum_role)
    return sorted(email for email, role in rows.all() if role_rank(role) >= floor)


async def staff_email(session: AsyncSession, user_id: uuid.UUID) -> str | None:
    """A staff account's e-mail address, or None when there is no such account."""
    email = await session.scalar(select(StaffUser.email).where(StaffUser.id == user_id))
    return str(email) if email else None


async def add_member(
    session: AsyncSession, principal: Principal, *, email: str, role: str, meta: RequestMeta
) -> Member:
    """Invite the address (step-up); it joins when its mailbox's owner accepts.

    The answer is the same whether or not the address has an account (see `invitations`).
    """
    principal.require(Permission.MEMBERS_WRITE)
    principal.require_recent_auth()
    _check_grant(principal, role)
    invitation = await invite(session, principal, email=email, role=role, meta=meta)
    return Member(None, invitation.email, None, invitation.role, "invited", invitation.created_at)


async def _lock_owners(session: AsyncSession, principal: Principal) -> int:
    """Lock this tenant's owner rows and count them, before any change to a membership.

    Locked first and in one order, so concurrent role changes queue instead of both
    passing the last-owner check (or deadlocking). The tenant filter is explicit:
    row-level security also shows the acting user their own memberships in other tenants,
    which must not count as owners here.
    """
    owners = await session.scalars(
        select(Membership.user_id)
        .where(Membership.tenant_id == principal.tenant_id, Membership.role == Role.owner)
        .order_by(Membership.user_id)
        .with_for_update()
    )
    return len(owners.all())


async def _target(
    session: AsyncSession, principal: TenantPrincipal, user_id: uuid.UUID
) -> Membership:
    membership = await session.get(Membership, (principal.tenant_id, user_id), with_for_update=True)
    if membership is None:
        raise NotFound("No such member")
    if membership.role == Role.owner and not principal.can(Permission.MEMBERS_OWNERS):
        raise PermissionDenied("Only an owner can change or remove an owner")
    return membership


async def change_role(
    session: AsyncSession,
    principal: TenantPrincipal,
    *,
    user_id: uuid.UUID,
    role: str,
    meta: RequestMeta,
) -> Member:
    """Change a member's role (step-up)."""
    principal.require(Permission.MEMBERS_WRITE)
    principal.require_recent_auth()
    _check_grant(principal, role)
    owners = await _lock_owners(session, principal)
    membership = await _target(session, principal, user_id)
    before = membership.role
    if before == Role.owner and role != Role.owner and owners <= 1:
        raise LastOwner("Make someone else an owner first")
    membership.role = role
    await session.flush()
    await record_audit(
        session,
        actor=principal,
        action="member.role_changed",
        target=f"user:{user_id}",
        changes={"role": {"from": before, "to": role}},
        meta=meta,
    )
    user = await session.get(StaffUser, user_id)
    assert user is not None
    return Member(user.id, user.email, user.name, role, "active", membership.created_at)


async def remove_member(
    session: AsyncSession, principal: TenantPrincipal, *, user_id: uuid.UUID, meta: RequestMeta
) -> None:
    """Remove a member (step-up); never the last owner."""
    principal.require(Permission.MEMBERS_WRITE)
    principal.require_recent_auth()
    owners = await _lock_owners(session, principal)
    membership = await _target(session, principal, user_id)
    if membership.role == Role.owner and owners <= 1:
        raise LastOwner("The last owner cannot be removed")
    await session.delete(membership)
    await session.flush()
    await record_audit(
        session,
        actor=principal,
        action="member.removed",
        target=f"user:{user_id}",
        changes={"role": {"from": membership.role, "to": None}},
        meta=meta,
    )

"""Tenant members: add or invite by e-mail, change roles (step-up), remove.

Rules: nobody grants a role above their own; only owners grant or touch owners; the last
owner can be neither demoted nor removed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import set_tenant
from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import Conflict, NotFound
from mercato.kernel.security import PermissionDenied, Principal
from mercato.modules.audit import record_audit
from mercato.modules.identity.accounts import find_user_by_email, normalise_email
from mercato.modules.identity.models import Invitation, Membership, StaffUser, Tenant
from mercato.modules.identity.permissions import Role, role_rank
from mercato.modules.mail import queue_mail
from mercato.settings import get_settings


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
    if role == Role.owner and not principal.can("members:owners"):
        raise PermissionDenied("Only an owner can make someone an owner")
    if principal.role is not None and role_rank(role) > role_rank(principal.role):
        raise PermissionDenied("You cannot grant a role above your own")


async def list_members(session: AsyncSession, principal: Principal) -> list[Member]:
    principal.require("members:read")
    members = [
        Member(user.id, user.email, user.name, membership.role, "active", membership.created_at)
        for membership, user in (
            await session.execute(
                select(Membership, StaffUser)
                .join(StaffUser, StaffUser.id == Membership.user_id)
                .order_by(Membership.created_at)
            )
        ).all()
    ]
    invited = await session.scalars(
        select(Invitation).where(Invitation.accepted_at.is_(None)).order_by(Invitation.created_at)
    )
    members += [Member(None, i.email, None, i.role, "invited", i.created_at) for i in invited]
    return members


async def _tenant_name(session: AsyncSession, tenant_id: uuid.UUID) -> str:
    tenant = await session.get(Tenant, tenant_id)
    return tenant.name if tenant else "a Mercato tenant"


async def add_member(
    session: AsyncSession, principal: Principal, *, email: str, role: str, meta: RequestMeta
) -> Member:
    """Add an existing account at once, or invite the address (it joins once verified)."""
    principal.require("members:write")
    _check_grant(principal, role)
    assert principal.tenant_id is not None
    email = normalise_email(email)
    tenant_name = await _tenant_name(session, principal.tenant_id)
    user = await find_user_by_email(session, email)
    if user is not None:
        existing = await session.get(Membership, (principal.tenant_id, user.id))
        if existing is not None:
            raise Conflict(f"{email} is already a member")
        membership = Membership(
            tenant_id=principal.tenant_id,
            user_id=user.id,
            role=role,
            invited_by=principal.user_id,
        )
        session.add(membership)
        await session.flush()
        await record_audit(
            session,
            actor=principal,
            action="member.added",
            target=f"user:{user.id}",
            changes={"role": {"from": None, "to": role}},
            meta=meta,
        )
        await queue_mail(
            session,
            to=user.email,
            subject=f"You now have access to {tenant_name} on Mercato",
            text=f"Hello {user.name},\n\nYou were added to {tenant_name} as {role}.\n"
            f"Log in at {get_settings().public_url}/app",
            category="member_added",
        )
        return Member(user.id, user.email, user.name, role, "active", membership.created_at)

    pending = await session.scalar(select(Invitation).where(Invitation.email == email))
    if pending is not None and pending.accepted_at is None:
        raise Conflict(f"{email} is already invited")
    invitation = Invitation(
        tenant_id=principal.tenant_id, email=email, role=role, invited_by=principal.user_id
    )
    session.add(invitation)
    await session.flush()
    await record_audit(
        session,
        actor=principal,
        action="member.invited",
        target=f"email:{email}",
        changes={"role": {"from": None, "to": role}},
        meta=meta,
    )
    await queue_mail(
        session,
        to=email,
        subject=f"You are invited to {tenant_name} on Mercato",
        text=f"Hello,\n\nYou were invited to {tenant_name} as {role}. Create your account with "
        f"this e-mail address at {get_settings().public_url}/app/signup — you join as soon as "
        "the address is verified.",
        category="member_invited",
    )
    return Member(None, email, None, role, "invited", invitation.created_at)


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


async def _target(session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> Membership:
    assert principal.tenant_id is not None
    membership = await session.get(Membership, (principal.tenant_id, user_id), with_for_update=True)
    if membership is None:
        raise NotFound("No such member")
    if membership.role == Role.owner and not principal.can("members:owners"):
        raise PermissionDenied("Only an owner can change or remove an owner")
    return membership


async def change_role(
    session: AsyncSession,
    principal: Principal,
    *,
    user_id: uuid.UUID,
    role: str,
    meta: RequestMeta,
) -> Member:
    """Change a member's role (step-up)."""
    principal.require("members:write")
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
    session: AsyncSession, principal: Principal, *, user_id: uuid.UUID, meta: RequestMeta
) -> None:
    principal.require("members:write")
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


async def accept_invitations(session: AsyncSession, user: StaffUser) -> int:
    """Turn pending invitations for the user's (now verified) address into memberships."""
    await session.execute(
        text("SELECT set_config('app.user_email', :email, true)"),
        {"email": normalise_email(user.email)},
    )
    invitations = list(
        (
            await session.scalars(
                select(Invitation).where(
                    func.lower(Invitation.email) == normalise_email(user.email),
                    Invitation.accepted_at.is_(None),
                )
            )
        ).all()
    )
    for invitation in invitations:
        await set_tenant(session, invitation.tenant_id)
        if await session.get(Membership, (invitation.tenant_id, user.id)) is None:
            session.add(
                Membership(
                    tenant_id=invitation.tenant_id,
                    user_id=user.id,
                    role=invitation.role,
                    invited_by=invitation.invited_by,
                )
            )
        invitation.accepted_at = datetime.now(UTC)
        await session.flush()
        await record_audit(
            session,
            tenant_id=invitation.tenant_id,
            actor=f"user:{user.id}",
            action="member.joined",
            target=f"user:{user.id}",
            changes={"role": {"from": None, "to": invitation.role}},
        )
    return len(invitations)

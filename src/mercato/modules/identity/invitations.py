"""Invitations: the only way into a tenant, accepted by whoever reads the invited mailbox.

Adding a member never attaches an account directly. An open sign-up lets anyone create an
unverified account for someone else's address (account pre-hijacking); if an admin's
"add" attached that account, the squatter would be in the tenant. So every add creates an
invitation with a single-use token, mailed to the address, and answers the same whether
or not an account exists (nor whose name it carries). Presenting the token proves the
mailbox:

- no account yet: the accepter names themselves and chooses a password; the account is
  created already verified;
- a verified account: it joins;
- an unverified account: it was opened without proof of the mailbox, perhaps by someone
  else. The accepter must choose a new password; every session of the account is revoked,
  then it is verified and joins.

Tokens live seven days and are stored as SHA-256 hashes; inviting again renews them.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import set_local, set_tenant
from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import Conflict, NotFound, ValidationFailed, field_error
from mercato.kernel.security import Principal
from mercato.modules.audit import record_audit
from mercato.modules.identity.accounts import (
    InvalidToken,
    create_account,
    find_user_by_email,
    normalise_email,
    set_password,
    token_hash,
)
from mercato.modules.identity.auth_events import record_auth_event
from mercato.modules.identity.models import Invitation, Membership, StaffUser, Tenant
from mercato.modules.identity.sessions import revoke_all_sessions
from mercato.modules.mail import queue_mail
from mercato.settings import get_settings

INVITATION_TTL = timedelta(days=7)
ACCEPT_PATH = "/app/accept-invitation"


class AccountState(StrEnum):
    """What accepting needs, by the state of the invited address's account."""

    none = "none"  # a name and a password: the account is created
    unverified = "unverified"  # a new password: the account is reclaimed
    verified = "verified"  # nothing more


@dataclass(frozen=True)
class PendingInvitation:
    tenant_id: uuid.UUID
    tenant_name: str
    email: str
    role: str
    account: AccountState


@dataclass(frozen=True)
class AcceptedInvitation:
    tenant_id: uuid.UUID
    role: str
    user: StaffUser


async def invite(
    session: AsyncSession, principal: Principal, *, email: str, role: str, meta: RequestMeta
) -> Invitation:
    """Create (or renew) the address's invitation and mail its link; 409 if already in.

    The caller's tenant is the principal's. Says nothing about any account of the address.
    """
    tenant_id = principal.tenant_id
    if tenant_id is None:
        raise NotFound("No such tenant")
    email = normalise_email(email)
    await _refuse_existing_member(session, tenant_id, email)
    invitation = await session.scalar(
        select(Invitation).where(Invitation.tenant_id == tenant_id, Invitation.email == email)
    )
    now = datetime.now(UTC)
    if invitation is not None and _is_open(invitation, now):
        raise Conflict(f"{email} is already invited")
    if invitation is None:
        invitation = Invitation(tenant_id=tenant_id, email=email)
        session.add(invitation)
    token = secrets.token_urlsafe(32)
    invitation.role = role
    invitation.invited_by = principal.user_id
    invitation.accepted_at = None
    invitation.token_hash = token_hash(token)
    invitation.expires_at = now + INVITATION_TTL
    await session.flush()
    await record_audit(
        session,
        actor=principal,
        action="member.invited",
        target=f"email:{email}",
        changes={"role": {"from": None, "to": role}},
        meta=meta,
    )
    await _mail_invitation(session, invitation, token)
    return invitation


def _is_open(invitation: Invitation, now: datetime) -> bool:
    return (
        invitation.accepted_at is None
        and invitation.token_hash is not None
        and invitation.expires_at is not None
        and invitation.expires_at > now
    )


async def _refuse_existing_member(session: AsyncSession, tenant_id: uuid.UUID, email: str) -> None:
    """409 when the address already belongs to a member: the list shows them anyway."""
    user = await find_user_by_email(session, email)
    if user is not None and await session.get(Membership, (tenant_id, user.id)) is not None:
        raise Conflict(f"{email} is already a member")


async def _mail_invitation(session: AsyncSession, invitation: Invitation, token: str) -> None:
    tenant = await session.get(Tenant, invitation.tenant_id)
    tenant_name = tenant.name if tenant else "a Mercato tenant"
    link = f"{get_settings().public_url}{ACCEPT_PATH}?token={token}"
    await queue_mail(
        session,
        to=invitation.email,
        subject=f"You are invited to {tenant_name} on Mercato",
        text=(
            f"Hello,\n\nYou were invited to {tenant_name} as {invitation.role}. Open this link "
            f"within seven days to accept:\n{link}\n\n"
            f"Or send this token to POST /api/v1/auth/accept-invitation: {token}\n\n"
            "If you did not expect this invitation, ignore this message."
        ),
        category="member_invited",
        sealed=True,
    )


async def _open_invitation(session: AsyncSession, token: str, *, lock: bool) -> Invitation:
    """The invitation the token names, if still open; `InvalidToken` (400) otherwise."""
    digest = token_hash(token)
    await set_local(session, "app.invitation_token_hash", digest.hex())
    query = select(Invitation).where(Invitation.token_hash == digest)
    invitation = await session.scalar(query)
    if invitation is not None and lock:
        # Locked by its tenant too: Citus cannot lock rows of a query over every tenant.
        locking = query.where(Invitation.tenant_id == invitation.tenant_id).with_for_update()
        invitation = await session.scalar(locking.execution_options(populate_existing=True))
    if invitation is None or not _is_open(invitation, datetime.now(UTC)):
        raise InvalidToken()
    return invitation


def _account_state(user: StaffUser | None) -> AccountState:
    if user is None:
        return AccountState.none
    return AccountState.verified if user.email_verified_at else AccountState.unverified


async def describe_invitation(session: AsyncSession, token: str) -> PendingInvitation:
    """What the token invites to and what accepting will ask for (for the accept page)."""
    invitation = await _open_invitation(session, token, lock=False)
    tenant = await session.get(Tenant, invitation.tenant_id)
    user = await find_user_by_email(session, invitation.email)
    return PendingInvitation(
        tenant_id=invitation.tenant_id,
        tenant_name=tenant.name if tenant else "",
        email=invitation.email,
        role=invitation.role,
        account=_account_state(user),
    )


def _missing(*names: str) -> ValidationFailed:
    return ValidationFailed(
        "Accepting this invitation needs " + " and ".join(f"`{n}`" for n in names),
        errors=[
            field_error(name, "required to accept this invitation", "missing") for name in names
        ],
    )


async def _account_for(
    session: AsyncSession,
    invitation: Invitation,
    *,
    name: str | None,
    password: str | None,
    meta: RequestMeta,
) -> StaffUser:
    user = await find_user_by_email(session, invitation.email)
    if user is None:
        if not name or not password:
            raise _missing(*(n for n, v in (("name", name), ("password", password)) if not v))
        return await create_account(
            session,
            email=invitation.email,
            password=password,
            name=name,
            meta=meta,
            verified=True,
        )
    if user.email_verified_at is None:
        if not password:
            raise _missing("password")
        await _reclaim(session, user, password, meta)
    return user


async def _reclaim(
    session: AsyncSession, user: StaffUser, password: str, meta: RequestMeta
) -> None:
    """The mailbox's owner takes over an account opened without proof of the mailbox."""
    await set_password(session, user, password)
    user.email_verified_at = datetime.now(UTC)
    await revoke_all_sessions(session, user.id)
    await record_auth_event(session, "unverified_account_reclaimed", meta=meta, user_id=user.id)


async def accept_invitation(
    session: AsyncSession,
    *,
    token: str,
    name: str | None,
    password: str | None,
    meta: RequestMeta,
) -> AcceptedInvitation:
    """Join the tenant the token invites to (see the module docstring for the account).

    400 `invalid-token` for an unknown, used or expired token; 422 when a needed `name` or
    `password` is missing or the password is weak. The token is spent only on success.
    """
    invitation = await _open_invitation(session, token, lock=True)
    user = await _account_for(session, invitation, name=name, password=password, meta=meta)
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
    invitation.token_hash = None
    await session.flush()
    await record_audit(
        session,
        tenant_id=invitation.tenant_id,
        actor=f"user:{user.id}",
        action="member.joined",
        target=f"user:{user.id}",
        changes={"role": {"from": None, "to": invitation.role}},
        meta=meta,
    )
    await record_auth_event(
        session, "invitation_accepted", meta=meta, user_id=user.id, tenant_id=invitation.tenant_id
    )
    return AcceptedInvitation(invitation.tenant_id, invitation.role, user)

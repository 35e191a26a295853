"""Platform operators' accounts: created or promoted by `mercato create-admin`."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel import passwords
from mercato.kernel.errors import ValidationFailed, field_error
from mercato.modules.identity.accounts import find_user_by_email, normalise_email
from mercato.modules.identity.auth_events import record_auth_event
from mercato.modules.identity.models import StaffUser


@dataclass(frozen=True)
class AdminGranted:
    user_id: uuid.UUID
    email: str
    created: bool
    generated_password: str | None


def _checked(password: str, email: str) -> str:
    try:
        passwords.check_policy(password, email=email)
    except passwords.WeakPassword as weak:
        message = f"The password {weak}"
        raise ValidationFailed(
            message, errors=[field_error("password", message, "weak_password")]
        ) from weak
    return password


async def grant_platform_admin(
    session: AsyncSession, *, email: str, password: str | None, name: str | None
) -> AdminGranted:
    """Create an operator account, or promote an existing one (its password changes only
    when one is given). Without a password a new account gets a generated one, shown once.
    """
    email = normalise_email(email)
    user = await find_user_by_email(session, email)
    generated = None
    if user is None:
        if password is None:
            password = generated = secrets.token_urlsafe(18)
        user = StaffUser(
            email=email,
            name=(name or email.split("@", 1)[0]).strip(),
            email_verified_at=datetime.now(UTC),
            is_platform_admin=True,
            password_hash=await asyncio.to_thread(
                passwords.hash_password, _checked(password, email)
            ),
        )
        session.add(user)
        created = True
    else:
        user.is_platform_admin = True
        if password is not None:
            user.password_hash = await asyncio.to_thread(
                passwords.hash_password, _checked(password, email)
            )
        created = False
    await session.flush()
    await record_auth_event(session, "platform_admin_granted", meta=None, user_id=user.id)
    return AdminGranted(user.id, email, created, generated)

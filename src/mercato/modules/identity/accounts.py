"""Staff accounts: sign-up, password login, e-mail verification, password reset.

Unknown e-mail and wrong password get the same answer after the same work (a dummy
argon2 verification), so neither the response nor its timing reveals who has an account.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel import passwords
from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Unauthorized,
    ValidationFailed,
    field_error,
)
from mercato.kernel.security import Principal
from mercato.modules.identity.auth_events import record_auth_event
from mercato.modules.identity.models import EmailToken, StaffUser
from mercato.modules.identity.schemas import UserRead
from mercato.modules.identity.sessions import revoke_all_sessions
from mercato.modules.mail import queue_mail
from mercato.settings import get_settings

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose name, not a secret
TOKEN_LIFETIMES = {VERIFY_EMAIL: timedelta(days=3), RESET_PASSWORD: timedelta(hours=1)}


class InvalidCredentials(Unauthorized):
    slug, title = "invalid-credentials", "The e-mail address or password is wrong"


class EmailNotVerified(Forbidden):
    slug, title = "email-not-verified", "Verify your e-mail address before logging in"


class InvalidToken(DomainError):
    status, slug, title = 400, "invalid-token", "The link is invalid or has expired"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def token_hash(token: str) -> bytes:
    """How single-use mailed tokens are stored: only their SHA-256 hash."""
    return hashlib.sha256(token.encode()).digest()


async def find_user_by_email(session: AsyncSession, email: str) -> StaffUser | None:
    return await session.scalar(
        select(StaffUser).where(func.lower(StaffUser.email) == normalise_email(email))
    )


async def staff_account(session: AsyncSession, principal: Principal) -> UserRead | None:
    """The principal's own staff account (None for an API key or a deleted account)."""
    if principal.user_id is None:
        return None
    user = await session.get(StaffUser, principal.user_id)
    if user is None:
        return None
    return UserRead(
        id=user.id,
        email=user.email,
        name=user.name,
        email_verified=user.email_verified_at is not None,
    )


def _policy_error(password: str, *, email: str, name: str | None) -> ValidationFailed | None:
    try:
        passwords.check_policy(password, email=email, name=name)
    except passwords.WeakPassword as weak:
        message = f"The password {weak}"
        return ValidationFailed(message, errors=[field_error("password", message, "weak_password")])
    return None


async def create_account(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    name: str,
    meta: RequestMeta,
    verified: bool = False,
) -> StaffUser:
    """A new password account; 422 for a weak password, 409 if the e-mail is taken.

    `verified` only when the caller has just seen proof of the mailbox (a mailed token).
    """
    email = normalise_email(email)
    if (error := _policy_error(password, email=email, name=name)) is not None:
        raise error
    if await find_user_by_email(session, email) is not None:
        raise Conflict("An account with this e-mail address already exists")
    user = StaffUser(
        email=email,
        name=name.strip(),
        password_hash=await asyncio.to_thread(passwords.hash_password, password),
        email_verified_at=datetime.now(UTC) if verified else None,
    )
    session.add(user)
    await session.flush()
    await record_auth_event(session, "signup", meta=meta, user_id=user.id, email=email)
    return user


async def signup(
    session: AsyncSession, *, email: str, password: str, name: str, meta: RequestMeta
) -> StaffUser:
    """Create an account and send the verification e-mail. 409 if the e-mail is taken."""
    user = await create_account(session, email=email, password=password, name=name, meta=meta)
    await send_verification(session, user)
    return user


async def set_password(session: AsyncSession, user: StaffUser, password: str) -> None:
    """Replace the password (422 if weak) and void the reset links still outstanding."""
    if (error := _policy_error(password, email=user.email, name=user.name)) is not None:
        raise error
    user.password_hash = await asyncio.to_thread(passwords.hash_password, password)
    await session.execute(
        update(EmailToken)
        .where(EmailToken.user_id == user.id, EmailToken.purpose == RESET_PASSWORD)
        .values(used_at=func.coalesce(EmailToken.used_at, func.now()))
    )


async def _issue_email_token(session: AsyncSession, user_id: uuid.UUID, purpose: str) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        EmailToken(
            token_hash=token_hash(token),
            purpose=purpose,
            user_id=user_id,
            expires_at=datetime.now(UTC) + TOKEN_LIFETIMES[purpose],
        )
    )
    await session.flush()
    return token


async def _consume_email_token(session: AsyncSession, token: str, purpose: str) -> uuid.UUID:
    row = await session.scalar(
        select(EmailToken)
        .where(EmailToken.token_hash == token_hash(token), EmailToken.purpose == purpose)
        .with_for_update()
    )
    if row is None or row.used_at is not None or row.expires_at < datetime.now(UTC):
        raise InvalidToken()
    row.used_at = datetime.now(UTC)
    return row.user_id


async def send_verification(session: AsyncSession, user: StaffUser) -> None:
    token = await _issue_email_token(session, user.id, VERIFY_EMAIL)
    link = f"{get_settings().public_url}/app/verify-email?token={token}"
    await queue_mail(
        session,
        to=user.email,
        subject="Confirm your e-mail address for Mercato",
        text=(
            f"Hello {user.name},\n\nConfirm your e-mail address by opening this link:\n{link}\n\n"
            f"Or send this token to POST /api/v1/auth/verify-email: {token}\n\n"
            "The link is valid for three days. If you did not sign up, ignore this message."
        ),
        category="verify_email",
        sealed=True,
    )


async def verify_email(session: AsyncSession, *, token: str, meta: RequestMeta) -> StaffUser:
    """Mark the address verified.

    Pending invitations for the address are not accepted here: the account may have been
    opened by someone else, so only the invitation's own link (to the mailbox) joins one.
    """
    user_id = await _consume_email_token(session, token, VERIFY_EMAIL)
    user = await session.get(StaffUser, user_id)
    if user is None:
        raise InvalidToken()
    if user.email_verified_at is None:
        user.email_verified_at = datetime.now(UTC)
    await record_auth_event(session, "email_verified", meta=meta, user_id=user.id)
    return user


async def authenticate_password(
    session: AsyncSession, *, email: str, password: str, meta: RequestMeta
) -> StaffUser:
    """The user if the password matches; the same 401 (after the same work) otherwise."""
    user = await find_user_by_email(session, email)
    if user is None or user.password_hash is None:
        await asyncio.to_thread(passwords.burn_verification_time, password)
        await record_auth_event(None, "login_failed", meta=meta, email=normalise_email(email))
        raise InvalidCredentials()
    if not await asyncio.to_thread(passwords.verify_password, user.password_hash, password):
        await record_auth_event(None, "login_failed", meta=meta, user_id=user.id)
        raise InvalidCredentials()
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = await asyncio.to_thread(passwords.hash_password, password)
    return user


async def login(
    session: AsyncSession, *, email: str, password: str, meta: RequestMeta
) -> StaffUser:
    user = await authenticate_password(session, email=email, password=password, meta=meta)
    if get_settings().email_verification_required and user.email_verified_at is None:
        await record_auth_event(None, "login_unverified", meta=meta, user_id=user.id)
        raise EmailNotVerified()
    await record_auth_event(session, "login", meta=meta, user_id=user.id)
    return user


async def forgot_password(session: AsyncSession, *, email: str, meta: RequestMeta) -> None:
    """Send a reset link if the account exists; the caller answers 202 either way."""
    user = await find_user_by_email(session, email)
    await record_auth_event(
        session,
        "password_reset_requested",
        meta=meta,
        user_id=user.id if user else None,
        email=None if user else normalise_email(email),
    )
    if user is None:
        return
    token = await _issue_email_token(session, user.id, RESET_PASSWORD)
    link = f"{get_settings().public_url}/app/reset-password?token={token}"
    await queue_mail(
        session,
        to=user.email,
        subject="Reset your Mercato password",
        text=(
            f"Hello {user.name},\n\nSomeone asked to reset your password. Open this link "
            f"within an hour to choose a new one:\n{link}\n\n"
            f"Or send this token to POST /api/v1/auth/reset-password: {token}\n\n"
            "If it was not you, ignore this message; your password stays as it is."
        ),
        category="reset_password",
        sealed=True,
    )


async def reset_password(
    session: AsyncSession, *, token: str, password: str, meta: RequestMeta
) -> StaffUser:
    """Set a new password and sign the user out everywhere (all refresh families)."""
    user_id = await _consume_email_token(session, token, RESET_PASSWORD)
    user = await session.get(StaffUser, user_id)
    if user is None:
        raise InvalidToken()
    await set_password(session, user, password)
    # Proof of mailbox access also verifies the address.
    if user.email_verified_at is None:
        user.email_verified_at = datetime.now(UTC)
    await revoke_all_sessions(session, user.id)
    await record_auth_event(session, "password_reset", meta=meta, user_id=user.id)
    return user

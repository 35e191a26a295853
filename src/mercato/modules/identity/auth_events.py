"""The account security log: sign-ins, failures, resets and token reuse, per account."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import get_database
from mercato.kernel.deps import RequestMeta
from mercato.modules.identity.models import AuthEvent


async def record_auth_event(
    session: AsyncSession | None,
    event: str,
    *,
    meta: RequestMeta | None,
    user_id: uuid.UUID | None = None,
    email: str | None = None,
    **details: object,
) -> None:
    """Append to the account security log.

    With `session=None` the entry commits in a transaction of its own: failures (a wrong
    password, a reused refresh token) must be recorded although the request is refused
    and its own transaction rolls back.
    """
    entry = AuthEvent(
        event=event,
        user_id=user_id,
        email=email,
        ip=meta.ip if meta else None,
        user_agent=meta.user_agent if meta else None,
        request_id=meta.request_id if meta else None,
        details={k: str(v) for k, v in details.items()},
    )
    if session is None:
        async with get_database().session() as own:
            own.add(entry)
        return
    session.add(entry)
    await session.flush()

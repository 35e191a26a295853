"""Customers added by the system rather than by signing up (the demo shop's shoppers)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.orm import uuid7
from mercato.modules.customers.models import Customer


async def seed_customers(
    session: AsyncSession, tenant_id: uuid.UUID, emails: Sequence[str]
) -> None:
    """One customer per e-mail, without a password or marketing consent, in one statement
    (none of the e-mails may be a customer of the tenant yet)."""
    if not emails:
        return
    await session.execute(
        insert(Customer),
        [
            {
                "tenant_id": tenant_id,
                "id": uuid7(),
                "email": email,
                "marketing_consent": False,
                "preferences": {},
                "addresses": [],
            }
            for email in emails
        ],
    )

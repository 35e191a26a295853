"""A tenant's own SMTP server: its mail leaves through it, the global one is the fallback.

The integrations module (which builds on this one) installs how a tenant's SMTP settings
are read with `tenant_smtp_with` when it is imported, so mail never imports integrations.
Failures through a tenant's server are recorded in our words only (`TenantSmtpFailed`):
what the remote server said may echo anything, and the tenant reads the delivery record.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None
    password: str | None
    security: Literal["starttls", "tls", "none"]
    from_address: str


class TenantSmtpFailed(Exception):
    """Sending through the tenant's server failed; the message is safe to show the tenant."""


TenantSmtpLookup = Callable[[uuid.UUID], Awaitable[SmtpServer | None]]
"""`tenant_id` → the tenant's SMTP server, or None when it has none configured."""

_lookup: list[TenantSmtpLookup] = []


def tenant_smtp_with(lookup: TenantSmtpLookup) -> None:
    """Install the integrations module's lookup (replacing any earlier one)."""
    _lookup[:] = [lookup]


async def tenant_smtp(tenant_id: uuid.UUID) -> SmtpServer | None:
    if not _lookup:
        raise RuntimeError("No tenant SMTP lookup installed: the integrations module is not loaded")
    return await _lookup[0](tenant_id)

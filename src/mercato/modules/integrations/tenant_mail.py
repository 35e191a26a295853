"""A tenant's SMTP integration as the mail module's way out for that tenant's messages.

Installed into mail with `tenant_smtp_with` on import (mail builds below integrations).
"""

from __future__ import annotations

import uuid

from mercato.kernel.db import get_database
from mercato.modules.integrations.service import get_integration_config
from mercato.modules.mail import SmtpServer, tenant_smtp_with


async def tenant_smtp_server(tenant_id: uuid.UUID) -> SmtpServer | None:
    """The tenant's SMTP server (password unsealed), or None when it has no integration."""
    async with get_database().tenant_session(tenant_id) as session:
        config = await get_integration_config(session, tenant_id, "smtp")
    if config is None:
        return None
    return SmtpServer(
        host=str(config["host"]),
        port=int(config["port"]),
        username=config.get("username"),
        password=config.get("password"),
        security=config.get("security", "starttls"),
        from_address=str(config["from_address"]),
    )


tenant_smtp_with(tenant_smtp_server)

"""Per-tenant integration settings: plain fields as JSON, secrets sealed with AES-GCM."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import LargeBinary, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import Base, created_at_column, tenant_id_column, updated_at_column


class IntegrationConfig(Base):
    """One integration of a tenant (`kind` ∈ bigquery, sftp, smtp, google, stripe).

    `secrets_sealed` is `kernel.crypto.seal` of a JSON object of the secret fields, bound to
    the tenant and kind; `key_id` names the key that sealed it, to find rows to re-seal
    after a key rotation.
    """

    __tablename__ = "integration_config"

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    secrets_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    key_id: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

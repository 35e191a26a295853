"""The mail outbox: every message the platform sends, kept for the delivery record."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Integer, LargeBinary, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import Base, created_at_column, uuid_pk


class MailMessage(Base):
    __tablename__ = "mail_outbox"

    id: Mapped[uuid.UUID] = uuid_pk()
    recipient: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # A message carrying a secret (a single-use link) keeps its bodies here, sealed with the
    # server key, and only a note in `body_text`; cleared once the message is sent.
    body_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    category: Mapped[str] = mapped_column(Text)
    # Inline images and other parts: [{"cid", "content_type", "data_b64"}].
    attachments: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    status: Mapped[str] = mapped_column(Text, default="queued")  # queued | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

"""Read what the platform mailed, as the recipient would: sealed bodies are opened.

Tests prove "whoever reads the mailbox" by reading the newest message of a category sent
to an address, the way a person opens their inbox.
"""

from __future__ import annotations

import re

import psycopg

from mercato.kernel.db import libpq_url
from mercato.modules.mail.models import MailMessage
from mercato.modules.mail.service import open_body
from mercato.settings import get_settings


def latest_mail(recipient: str, category: str) -> str:
    """The text of the newest `category` message to `recipient` (fails if there is none)."""
    url = get_settings().database_url
    assert url is not None
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute(
            "SELECT body_text, body_sealed FROM mail_outbox WHERE recipient = %s "
            "AND category = %s ORDER BY created_at DESC LIMIT 1",
            (recipient, category),
        ).fetchone()
    assert row is not None, f"no {category} mail for {recipient}"
    return open_body(MailMessage(body_text=row[0], body_sealed=row[1])).text


def token_in(mail: str) -> str:
    """The single-use token of the first link in a message."""
    match = re.search(r"token=([A-Za-z0-9_-]+)", mail)
    assert match, mail
    return match.group(1)


def mailed_token(recipient: str, category: str) -> str:
    return token_in(latest_mail(recipient, category))

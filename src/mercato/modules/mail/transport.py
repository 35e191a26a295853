"""How a message leaves: SMTP when `MERCATO_SMTP_URL` is set, else an .eml file on disk.

In development the files land in `DATA_DIR/mail/`, where a person can open them in any
mail client.
"""

from __future__ import annotations

import base64
import contextlib
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import aiosmtplib

from mercato.kernel import egress
from mercato.modules.mail.models import MailMessage
from mercato.modules.mail.service import open_body
from mercato.settings import Settings

TIMEOUT_S = 30


def build_message(message: MailMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(idstring=str(message.id), domain="mercato.local")
    body = open_body(message)
    email.set_content(body.text)
    if body.html:
        email.add_alternative(body.html, subtype="html")
        html_part = email.get_body(preferencelist=("html",))
        assert isinstance(html_part, EmailMessage)
        for part in message.attachments or []:
            html_part.add_related(
                base64.b64decode(part["data_b64"]),
                maintype=part["content_type"].split("/")[0],
                subtype=part["content_type"].split("/")[1],
                cid=f"<{part['cid']}>",
            )
    return email


async def send_smtp(email: EmailMessage, smtp_url: str) -> None:
    """Send through the server in `smtp://user:pass@host:port?starttls=true` or `smtps://…`.

    The connection is made by egress: a relay on an internal address (`localhost`, the
    private network) must be listed in `MERCATO_EGRESS_ALLOWED_HOSTS`.
    """
    url = urlparse(smtp_url)
    options = parse_qs(url.query)
    host = url.hostname or "localhost"
    port = url.port or (465 if url.scheme == "smtps" else 25)
    with contextlib.closing(await egress.open_socket(host, port, timeout_s=TIMEOUT_S)) as sock:
        await aiosmtplib.send(
            email,
            hostname=host,
            sock=sock,
            username=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
            use_tls=url.scheme == "smtps",
            start_tls=options.get("starttls", ["false"])[0] == "true",
            timeout=TIMEOUT_S,
        )


def write_eml(email: EmailMessage, message: MailMessage, data_dir: Path) -> Path:
    folder = data_dir / "mail"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{message.created_at:%Y%m%dT%H%M%S}-{message.id}.eml"
    path.write_bytes(bytes(email))
    return path


async def deliver(message: MailMessage, settings: Settings) -> None:
    email = build_message(message, settings.mail_from)
    if settings.smtp_url:
        await send_smtp(email, settings.smtp_url.get_secret_value())
    else:
        write_eml(email, message, Path(settings.data_dir))

"""How a message leaves: through the tenant's own SMTP server when it has one, else SMTP
when `MERCATO_SMTP_URL` is set, else an .eml file on disk.

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
from mercato.kernel.hostnames import host_with_port
from mercato.kernel.logging import get_logger
from mercato.modules.mail.models import MailMessage
from mercato.modules.mail.service import open_body
from mercato.modules.mail.tenant_servers import SmtpServer, TenantSmtpFailed
from mercato.settings import Settings

log = get_logger("mercato.mail")

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
    await _send(
        email,
        SmtpServer(
            host=url.hostname or "localhost",
            port=url.port or (465 if url.scheme == "smtps" else 25),
            username=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
            security=(
                "tls"
                if url.scheme == "smtps"
                else "starttls"
                if options.get("starttls", ["false"])[0] == "true"
                else "none"
            ),
            from_address=str(email["From"]),
        ),
    )


async def _send(email: EmailMessage, server: SmtpServer) -> None:
    sock = await egress.open_socket(server.host, server.port, timeout_s=TIMEOUT_S)
    with contextlib.closing(sock):
        await aiosmtplib.send(
            email,
            hostname=server.host,
            sock=sock,
            username=server.username or None,
            password=server.password if server.username else None,
            use_tls=server.security == "tls",
            start_tls=server.security == "starttls",
            timeout=TIMEOUT_S,
        )


async def send_through_tenant_server(email: EmailMessage, server: SmtpServer) -> None:
    """Send through a tenant's server; failures raise `TenantSmtpFailed` in our words.

    The connection goes through egress like any other (internal addresses refused unless
    allowed); the remote server's reply is logged for operators, never shown.
    """
    where = host_with_port(server.host, server.port)
    try:
        await _send(email, server)
    except egress.CannotConnect as exc:
        raise TenantSmtpFailed(f"{egress.COULD_NOT_CONNECT} to the SMTP server") from exc
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise TenantSmtpFailed("SMTP login refused: check the username and password") from exc
    except aiosmtplib.SMTPRecipientsRefused as exc:
        raise TenantSmtpFailed("the SMTP server refused the recipient") from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        log.info("tenant_smtp_failed", where=where, error=repr(exc))
        raise TenantSmtpFailed(f"the SMTP server at {where} refused the message") from exc


def write_eml(email: EmailMessage, message: MailMessage, data_dir: Path) -> Path:
    folder = data_dir / "mail"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{message.created_at:%Y%m%dT%H%M%S}-{message.id}.eml"
    path.write_bytes(bytes(email))
    return path


async def deliver(
    message: MailMessage, settings: Settings, tenant_server: SmtpServer | None = None
) -> None:
    """Send one message: the tenant's server when it has one, else the global path."""
    if tenant_server is not None:
        email = build_message(message, tenant_server.from_address)
        await send_through_tenant_server(email, tenant_server)
        return
    email = build_message(message, settings.mail_from)
    if settings.smtp_url:
        await send_smtp(email, settings.smtp_url.get_secret_value())
    else:
        write_eml(email, message, Path(settings.data_dir))

"""Mail delivery: outbox → worker → SMTP (or .eml files in development), with retries."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select, text

from mercato.kernel.db import get_database
from mercato.modules.mail import jobs as mail_jobs
from mercato.modules.mail import queue_mail
from mercato.modules.mail.models import MailMessage
from mercato.settings import get_settings
from tests.fakes.server import free_port
from tests.fakes.smtp import smtp_server
from tests.jobs import run_queued_jobs


async def _queue(subject: str) -> uuid.UUID:
    async with get_database().session() as session:
        return await queue_mail(
            session,
            to="buyer@shop.example",
            subject=subject,
            text="Plain body",
            html="<p>HTML <img src='cid:chart'></p>",
            category="test",
            attachments=[{"cid": "chart", "content_type": "image/png", "data_b64": "iVBORw0KGgo="}],
        )


async def _run_mail_queue() -> None:
    await run_queued_jobs("mail")


async def _message(message_id: uuid.UUID) -> MailMessage:
    async with get_database().session() as session:
        row = await session.scalar(select(MailMessage).where(MailMessage.id == message_id))
        assert row is not None
        return row


@pytest.fixture
def use_smtp(monkeypatch):
    def configure(url: str | None) -> None:
        settings = get_settings().model_copy(update={"smtp_url": SecretStr(url) if url else None})
        monkeypatch.setattr(mail_jobs, "get_settings", lambda: settings)

    return configure


async def test_development_mail_is_written_as_an_eml_file(app, use_smtp) -> None:
    use_smtp(None)
    subject = f"Dev mail {uuid.uuid4().hex[:6]}"
    message_id = await _queue(subject)
    await _run_mail_queue()
    assert (await _message(message_id)).status == "sent"
    files = list((Path(get_settings().data_dir) / "mail").glob(f"*{message_id}.eml"))
    assert len(files) == 1
    content = files[0].read_text()
    assert subject in content
    assert "Content-ID: <chart>" in content


async def test_mail_is_delivered_over_smtp(app, use_smtp) -> None:
    with smtp_server() as (inbox, url):
        use_smtp(url)
        subject = f"SMTP mail {uuid.uuid4().hex[:6]}"
        message_id = await _queue(subject)
        await _run_mail_queue()
    assert (await _message(message_id)).status == "sent"
    received = [m for m in inbox.messages if m["Subject"] == subject]
    assert len(received) == 1
    assert received[0]["To"] == "buyer@shop.example"
    assert received[0].get_body(preferencelist=("plain",)).get_content().strip() == "Plain body"
    assert received[0].get_body(preferencelist=("html",)) is not None


async def test_a_sealed_message_keeps_its_link_out_of_the_outbox(app, use_smtp) -> None:
    """Reset and invitation links: the table holds ciphertext until sent, then nothing."""
    link = f"https://mercato.example/app/reset-password?token={uuid.uuid4().hex}"
    async with get_database().session() as session:
        message_id = await queue_mail(
            session,
            to="staff@shop.example",
            subject="Reset",
            text=f"Open {link}",
            html=f"<a href='{link}'>reset</a>",
            category="reset_password",
            sealed=True,
        )
    queued = await _message(message_id)
    assert link not in queued.body_text
    assert queued.body_html is None
    assert queued.body_sealed is not None
    assert link.encode() not in queued.body_sealed
    with smtp_server() as (inbox, url):
        use_smtp(url)
        await _run_mail_queue()
    received = [m for m in inbox.messages if m["To"] == "staff@shop.example"]
    assert link in received[-1].get_body(preferencelist=("plain",)).get_content()
    sent = await _message(message_id)
    assert sent.status == "sent"
    assert sent.body_sealed is None
    assert link not in sent.body_text


async def test_a_failed_delivery_is_recorded_and_retried(app, use_smtp) -> None:
    use_smtp(f"smtp://127.0.0.1:{free_port()}")  # nothing listens there
    message_id = await _queue(f"Retry mail {uuid.uuid4().hex[:6]}")
    await _run_mail_queue()
    failed = await _message(message_id)
    assert failed.status == "queued"
    assert failed.attempts == 1
    assert failed.last_error
    async with get_database().session() as session:
        status = (
            await session.execute(
                text(
                    "SELECT status FROM procrastinate_jobs WHERE task_name = 'mail.deliver' "
                    "AND args->>'message_id' = :id"
                ),
                {"id": str(message_id)},
            )
        ).scalar_one()
    assert status == "todo"  # re-queued with backoff, not lost

"""A tenant with an SMTP integration mails through its own server (issue 22, item 6).

Two real SMTP servers (aiosmtpd): the tenant's and the global one (`MERCATO_SMTP_URL`).
A tenant without an integration falls back to the global server; a failure at the
tenant's server is recorded in the tenant's delivery record in our words only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pydantic import SecretStr

from mercato.kernel.db import get_database
from mercato.modules.mail import jobs as mail_jobs
from mercato.modules.mail import mail_outcomes, queue_mail
from mercato.settings import get_settings
from tests.fakes.server import free_port
from tests.fakes.smtp import Inbox, smtp_server
from tests.jobs import run_queued_jobs
from tests.modules.tracking.helpers import Shop, new_shop

REMOTE_SECRET_TEXT = "relay db01.corp.internal says: quota table locked"


class Refusing(Inbox):
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return f"554 5.7.1 {REMOTE_SECRET_TEXT}"


@contextmanager
def refusing_server() -> Iterator[int]:
    port = free_port()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def global_smtp(monkeypatch) -> Iterator[Inbox]:
    with smtp_server() as (inbox, url):
        settings = get_settings().model_copy(update={"smtp_url": SecretStr(url)})
        monkeypatch.setattr(mail_jobs, "get_settings", lambda: settings)
        yield inbox


async def _use_own_server(client, shop: Shop, port: int) -> None:
    response = await client.put(
        f"{shop.base}/integrations/smtp",
        json={
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "from_address": "shop@tenant-a.example",
        },
        headers=shop.owner.headers,
    )
    assert response.status_code in (200, 201), response.text


async def _queue(shop: Shop, subject: str) -> uuid.UUID:
    tenant = uuid.UUID(shop.tenant_id)
    async with get_database().tenant_session(tenant) as session:
        return await queue_mail(
            session,
            to="manager@shop.example",
            subject=subject,
            text="Weekly numbers",
            category="report",
            tenant_id=tenant,
        )


async def _outcome(shop: Shop, message_id: uuid.UUID):
    async with get_database().tenant_session(uuid.UUID(shop.tenant_id)) as session:
        return (await mail_outcomes(session, [message_id]))[message_id]


def _subjects(inbox: Inbox) -> list[str]:
    return [str(message["Subject"]) for message in inbox.messages]


async def test_each_tenants_mail_leaves_through_its_own_server_or_the_global_one(
    client, global_smtp: Inbox
) -> None:
    with_server, without = await new_shop(client), await new_shop(client)
    with smtp_server() as (own_inbox, own_url):
        await _use_own_server(client, with_server, int(own_url.rsplit(":", 1)[1]))
        own = await _queue(with_server, f"A {uuid.uuid4().hex[:8]}")
        fallback = await _queue(without, f"B {uuid.uuid4().hex[:8]}")
        await run_queued_jobs("mail")

    own_subject = next(s for s in _subjects(own_inbox) if s.startswith("A "))
    assert own_subject not in _subjects(global_smtp)
    assert str(own_inbox.messages[0]["From"]) == "shop@tenant-a.example"
    assert any(s.startswith("B ") for s in _subjects(global_smtp))
    assert not any(s.startswith("B ") for s in _subjects(own_inbox))
    assert (await _outcome(with_server, own)).status == "sent"
    assert (await _outcome(without, fallback)).status == "sent"


async def test_a_failing_tenant_server_shows_in_its_record_without_the_servers_words(
    client, global_smtp: Inbox
) -> None:
    shop = await new_shop(client)
    with refusing_server() as port:
        await _use_own_server(client, shop, port)
        message_id = await _queue(shop, "Refused report")
        await run_queued_jobs("mail")

    outcome = await _outcome(shop, message_id)
    assert outcome.status != "sent"
    assert outcome.last_error == f"the SMTP server at 127.0.0.1:{port} refused the message"
    assert REMOTE_SECRET_TEXT not in (outcome.last_error or "")
    assert "Refused report" not in _subjects(global_smtp)  # no silent fallback


async def test_a_tenant_server_on_an_internal_address_is_refused_by_egress(
    client, global_smtp: Inbox, strict_egress
) -> None:
    shop = await new_shop(client)
    with smtp_server() as (own_inbox, own_url):
        await _use_own_server(client, shop, int(own_url.rsplit(":", 1)[1]))
        message_id = await _queue(shop, "Internal report")
        await run_queued_jobs("mail")

    assert own_inbox.messages == []
    outcome = await _outcome(shop, message_id)
    assert outcome.status != "sent"
    assert outcome.last_error == "could not connect to the SMTP server"

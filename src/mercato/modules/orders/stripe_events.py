"""Stripe's webhook for one tenant: verify, process each event id once, move orders.

Handled: `payment_intent.succeeded` and `checkout.session.completed` (paid) make the
order paid; `payment_intent.payment_failed` records the reason on the payment. Other
types are acknowledged and ignored. A bad signature is a 400 and changes nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from mercato.kernel.db import get_database
from mercato.kernel.errors import NotFound
from mercato.modules.identity import tenant_facts
from mercato.modules.inventory import InsufficientStock
from mercato.modules.orders.service import load_order, mark_paid, record_status
from mercato.modules.payments import (
    claim_stripe_event,
    mark_failed,
    mark_succeeded,
    payment_for_stripe_object,
    stripe_credentials,
    verify_stripe_event,
)

PAID_EVENTS = {"payment_intent.succeeded", "checkout.session.completed"}


async def receive_stripe_webhook(
    tenant_id: uuid.UUID, raw: bytes, signature: str | None
) -> dict[str, Any]:
    """Process one delivery; `duplicate: true` when the event id was seen before."""
    async with get_database().tenant_session(tenant_id) as session:
        tenant = await tenant_facts(session, tenant_id)
        if tenant is None or tenant.status == "deleted":
            raise NotFound("No such tenant")
        credentials = await stripe_credentials(session, tenant_id)
        event = verify_stripe_event(raw, signature, credentials.webhook_secret)
        event_type = str(event.get("type", ""))
        if not await claim_stripe_event(session, tenant_id, str(event["id"]), event_type):
            return {"received": True, "duplicate": True}
        data = event.get("data") or {}
        obj = data.get("object") if isinstance(data, dict) else None
        if not isinstance(obj, dict):
            return {"received": True, "duplicate": False}
        actor = f"stripe:{event['id']}"
        if event_type in PAID_EVENTS and obj.get("payment_status", "paid") == "paid":
            payment = await payment_for_stripe_object(session, tenant_id, obj)
            if payment is not None and await mark_succeeded(session, payment):
                order = await load_order(session, tenant_id, payment.order_id, lock=True)
                await _payment_arrived(session, order, actor)
        elif event_type == "payment_intent.payment_failed":
            payment = await payment_for_stripe_object(session, tenant_id, obj)
            if payment is not None:
                error = obj.get("last_payment_error") or {}
                reason = error.get("message") if isinstance(error, dict) else None
                await mark_failed(session, payment, str(reason or "payment failed"))
        return {"received": True, "duplicate": False}


async def _payment_arrived(session: Any, order: Any, actor: str) -> None:
    if order.status != "pending":
        # Cancelled (e.g. its reservation expired) before the money came: say so in the
        # history for staff to refund; the status stays.
        await record_status(
            session,
            order,
            order.status,
            actor=actor,
            note="payment arrived after cancellation",
            announce=False,
        )
        return
    try:
        await mark_paid(session, order, actor=actor, note=None)
    except InsufficientStock as exc:
        await record_status(
            session,
            order,
            "pending",
            actor=actor,
            note=f"paid, but stock is short: {exc.detail}",
            announce=False,
        )

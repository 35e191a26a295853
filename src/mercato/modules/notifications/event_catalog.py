"""The domain events Mercato notifies about, and the payload each emitter must send.

Every payload carries `id` (the subject: order, product, feed job, report) and `summary`
(one human sentence, in the merchant's language, used when a template has nothing
better). `occurrence_id` is needed only where one subject can raise the same event more
than once (a product running low again after a restock): notifications are sent once per
(event, occurrence_id or id, channel, recipient). `customer_email`, `customer_phone` and
`customer_push_token` let a rule address the shopper with the recipient `customer`.
The tenant is the handler's own argument, never part of the payload.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mercato.kernel.errors import ValidationFailed


@dataclass(frozen=True)
class NotifiableEvent:
    name: str
    description: str
    fields: tuple[str, ...]  # optional payload fields the templates use, beyond id/summary


_CUSTOMER = ("customer_email", "customer_phone", "customer_push_token", "customer_name")
_ORDER = ("number", "total", "currency", "url", *_CUSTOMER)

EVENTS: dict[str, NotifiableEvent] = {
    event.name: event
    for event in (
        NotifiableEvent("order.created", "An order was placed", _ORDER),
        NotifiableEvent("order.paid", "An order was paid", _ORDER),
        NotifiableEvent(
            "order.fulfilled", "An order was shipped", (*_ORDER, "carrier", "tracking_url")
        ),
        NotifiableEvent(
            "order.partially_fulfilled",
            "Part of an order was shipped",
            (*_ORDER, "carrier", "tracking_url"),
        ),
        NotifiableEvent("order.refunded", "An order was refunded", (*_ORDER, "amount", "reason")),
        NotifiableEvent(
            "shipment.created",
            "A parcel of an order left a location",
            (*_ORDER, "location_code", "carrier", "tracking_number", "tracking_url"),
        ),
        NotifiableEvent(
            "shipment.delivered",
            "A parcel of an order was delivered",
            (*_ORDER, "carrier", "tracking_number", "tracking_url", "delivered_at"),
        ),
        NotifiableEvent(
            "return.created", "Goods of an order came back", (*_ORDER, "amount", "reason")
        ),
        NotifiableEvent(
            "refund.created",
            "The payment provider refunded money of an order",
            (*_ORDER, "amount", "reason"),
        ),
        NotifiableEvent(
            "inventory.low_stock",
            "A product is running low at a location",
            ("occurrence_id", "product_name", "location_code", "available", "threshold"),
        ),
        NotifiableEvent(
            "feed_job.failed",
            "A Merchant Center feed push failed",
            ("error", "attempts", "url"),
        ),
        NotifiableEvent(
            "feed_job.failed_again",
            "Feed pushes to a Merchant Center account failed twice in a row",
            ("occurrence_id", "account_id", "error"),
        ),
        NotifiableEvent(
            "tracking.ga4_stale",
            "No GA4 data has been imported for more than a day",
            ("occurrence_id", "source", "last_import_at", "hours"),
        ),
        NotifiableEvent(
            "feedback.satisfaction_low",
            "The week's average feedback rating fell under the tenant's threshold",
            ("average", "threshold", "ratings"),
        ),
        NotifiableEvent(
            "report.delivered", "A scheduled report was e-mailed", ("report_name", "recipients")
        ),
    )
}


class InvalidNotificationPayload(ValidationFailed):
    slug, title = "invalid-notification-payload", "The event payload lacks required fields"


def event_key(event: str, payload: dict[str, Any]) -> str:
    """The occurrence a notification is about: `occurrence_id`, else the subject's `id`.

    Raises `InvalidNotificationPayload` when the payload lacks `id` or `summary`: a
    handler cannot invent them, and the failure lands in `job_failure` for the emitter.
    """
    missing = [name for name in ("id", "summary") if not str(payload.get(name) or "").strip()]
    if missing:
        raise InvalidNotificationPayload(f"{event} payload lacks {', '.join(missing)}")
    return str(payload.get("occurrence_id") or payload["id"])

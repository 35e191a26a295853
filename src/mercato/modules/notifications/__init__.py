"""Notifications on domain events: e-mail, SMS and push per tenant preferences.

Emitters need nothing from here: they `emit(session, tenant_id, "order.created", payload)`
with the payload shape documented in `event_catalog` (and docs/content.md). Public surface:
`EVENTS` (the notifiable events), `signature` (for gateways verifying webhooks),
`expire_deliveries` (retention).
"""

from mercato.modules.notifications.deliveries import expire_deliveries
from mercato.modules.notifications.event_catalog import EVENTS, NotifiableEvent
from mercato.modules.notifications.providers import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature

__all__ = [
    "EVENTS",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "NotifiableEvent",
    "expire_deliveries",
    "signature",
]

"""Outbound webhooks for integrators: signed deliveries of domain events, with retries.

Other modules import nothing from here: the module subscribes to every domain event
itself. The dashboard manages endpoints with the service calls below and their shapes.
"""

from mercato.modules.webhooks.schemas import WebhookCreate, WebhookUpdate
from mercato.modules.webhooks.service import (
    create_endpoint,
    delete_endpoint,
    get_endpoint,
    list_deliveries,
    list_endpoints,
    rotate_secret,
    send_test,
    update_endpoint,
)

__all__ = [
    "WebhookCreate",
    "WebhookUpdate",
    "create_endpoint",
    "delete_endpoint",
    "get_endpoint",
    "list_deliveries",
    "list_endpoints",
    "rotate_secret",
    "send_test",
    "update_endpoint",
]

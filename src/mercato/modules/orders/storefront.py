"""What a checkout from a browser (publishable) key may do.

A publishable key sits in a public web page, so anyone can script it. Checkout reserves
stock; a script that could reserve without paying would hold the whole shop. So such a
checkout must go through a provider that takes a payment (never `manual`, which is for
staff and servers recording offline payments), and its reservation is short: it lapses
after `MERCATO_STOREFRONT_RESERVATION_TTL_S` unless paid. How much one checkout may
reserve is capped where the cart is claimed (`cart.claim_for_checkout`).
"""

from __future__ import annotations

from datetime import timedelta

from mercato.kernel.errors import Forbidden
from mercato.kernel.security import Principal
from mercato.settings import get_settings

# Providers that reserve stock without a payment being made through them.
UNPAID_PROVIDERS = frozenset({"manual"})


class PaymentProviderNotAllowed(Forbidden):
    slug, title = "payment-provider-not-allowed", "This key may not use this payment provider"


def is_storefront(principal: Principal) -> bool:
    return principal.key_kind == "publishable"


def check_payment_provider(principal: Principal, provider: str) -> None:
    """403 when a browser key picks a provider that reserves stock without a payment."""
    if is_storefront(principal) and provider in UNPAID_PROVIDERS:
        raise PaymentProviderNotAllowed(
            f"A publishable key cannot check out with `{provider}`: it reserves stock without "
            "a payment. Use a paying provider, or place the order from your server."
        )


def reservation_ttl(principal: Principal) -> timedelta:
    """How long the checkout's stock stays reserved while the order is unpaid."""
    settings = get_settings()
    seconds = settings.reservation_ttl_s
    if is_storefront(principal):
        seconds = min(seconds, settings.storefront_reservation_ttl_s)
    return timedelta(seconds=seconds)

"""Payment providers behind one interface: `manual` (offline, POS, tests) and `stripe`.

Stripe is called over its documented REST API through egress; every call that creates
something carries a Stripe `Idempotency-Key` derived from our own row id, so a retry after
a timeout never charges or refunds twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import httpx
import iso4217

from mercato.kernel import egress
from mercato.kernel.errors import Conflict, DomainError
from mercato.kernel.logging import get_logger
from mercato.settings import get_settings

STRIPE_TIMEOUT_S = 15.0
# Stripe's currency guide departs from ISO 4217's minor units for these two: it takes the
# Malagasy ariary as zero-decimal and, for backwards compatibility, the Icelandic krona with
# two decimals (always 00).
STRIPE_EXPONENTS = {"MGA": 0, "ISK": 2}


log = get_logger("mercato.payments")


class PaymentProviderError(DomainError):
    status, slug, title = 502, "payment-provider-error", "The payment provider refused or failed"


class ProviderNotConfigured(Conflict):
    slug, title = "payment-provider-not-configured", "This payment provider is not set up"


@dataclass(frozen=True)
class PaymentRequest:
    payment_id: uuid.UUID
    order_id: uuid.UUID
    tenant_id: uuid.UUID
    amount: Decimal
    currency: str
    email: str
    success_url: str | None = None
    cancel_url: str | None = None
    lines: list[tuple[str, Decimal, int]] = field(default_factory=list)  # name, unit, qty


@dataclass(frozen=True)
class ProviderPayment:
    reference: str | None
    status: str  # requires_payment | succeeded
    client_secret: str | None = None
    checkout_url: str | None = None


class PaymentProvider(Protocol):
    name: str

    async def create(self, request: PaymentRequest) -> ProviderPayment: ...

    async def refund(
        self, reference: str | None, amount: Decimal, currency: str, refund_id: uuid.UUID
    ) -> str | None: ...


class ManualProvider:
    """Money changes hands outside Mercato; staff record it by moving the order to paid."""

    name = "manual"

    async def create(self, request: PaymentRequest) -> ProviderPayment:
        return ProviderPayment(reference=None, status="requires_payment")

    async def refund(
        self, reference: str | None, amount: Decimal, currency: str, refund_id: uuid.UUID
    ) -> str | None:
        return None


def minor_units(amount: Decimal, currency: str) -> int:
    """`amount` as Stripe's integer in the currency's smallest unit: ISO 4217's minor units
    (JPY 0, EUR 2, KWD 3) from the published table, except where Stripe says otherwise."""
    code = currency.upper()
    exponent = STRIPE_EXPONENTS.get(code)
    if exponent is None:
        exponent = iso4217.Currency(code).exponent or 0
    return int(amount.scaleb(exponent).to_integral_value())


@dataclass(frozen=True)
class StripeCredentials:
    secret_key: str
    webhook_secret: str | None


class StripeProvider:
    name = "stripe"

    def __init__(self, credentials: StripeCredentials) -> None:
        self.credentials = credentials
        self.base = get_settings().stripe_api_base.rstrip("/")

    async def _post(self, path: str, form: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        try:
            async with egress.http_client(timeout_s=STRIPE_TIMEOUT_S) as http:
                response = await http.post(
                    f"{self.base}{path}",
                    data=form,
                    auth=(self.credentials.secret_key, ""),
                    headers={"Idempotency-Key": idempotency_key},
                )
        except httpx.HTTPError as exc:
            log.info("stripe_unreachable", path=path, error=repr(exc))
            raise PaymentProviderError(f"Stripe: {egress.public_message(exc)}") from exc
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400:
            error: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else {}
            log.info(
                "stripe_refused",
                path=path,
                status=response.status_code,
                code=error.get("code"),
                message=error.get("message"),
            )
            raise PaymentProviderError(f"Stripe refused the request (HTTP {response.status_code})")
        return body

    async def create(self, request: PaymentRequest) -> ProviderPayment:
        currency = request.currency.lower()
        ids = {
            "order_id": str(request.order_id),
            "payment_id": str(request.payment_id),
            "tenant_id": str(request.tenant_id),
        }
        idempotency_key = f"mercato-payment-{request.payment_id}"
        amount = minor_units(request.amount, request.currency)
        if request.success_url and request.cancel_url:
            form: dict[str, Any] = {
                "mode": "payment",
                "success_url": request.success_url,
                "cancel_url": request.cancel_url,
                "customer_email": request.email,
                "client_reference_id": str(request.order_id),
                # One line for the whole order, so tax and shipping match our total exactly.
                "line_items[0][quantity]": 1,
                "line_items[0][price_data][currency]": currency,
                "line_items[0][price_data][unit_amount]": amount,
                "line_items[0][price_data][product_data][name]": f"Order {request.order_id}",
            }
            for name, value in ids.items():
                form[f"metadata[{name}]"] = value
                # The PaymentIntent the session creates carries the ids too, for its events.
                form[f"payment_intent_data[metadata][{name}]"] = value
            session = await self._post("/v1/checkout/sessions", form, idempotency_key)
            return ProviderPayment(
                reference=session.get("payment_intent") or session.get("id"),
                status="requires_payment",
                checkout_url=session.get("url"),
            )
        form = {
            "amount": amount,
            "currency": currency,
            "receipt_email": request.email,
            "automatic_payment_methods[enabled]": "true",
            **{f"metadata[{name}]": value for name, value in ids.items()},
        }
        intent = await self._post("/v1/payment_intents", form, idempotency_key)
        status = "succeeded" if intent.get("status") == "succeeded" else "requires_payment"
        return ProviderPayment(
            reference=intent.get("id"), status=status, client_secret=intent.get("client_secret")
        )

    async def refund(
        self, reference: str | None, amount: Decimal, currency: str, refund_id: uuid.UUID
    ) -> str | None:
        if reference is None:
            raise PaymentProviderError("The payment has no Stripe PaymentIntent to refund")
        refund = await self._post(
            "/v1/refunds",
            {"payment_intent": reference, "amount": minor_units(amount, currency)},
            f"mercato-refund-{refund_id}",
        )
        reference_id: str | None = refund.get("id")
        return reference_id

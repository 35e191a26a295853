"""A local fake of the Stripe API calls Mercato makes, and Stripe's webhook signing.

It checks what Stripe checks for these calls (secret key, form fields, idempotency keys:
the same key answers the same object) and answers in Stripe's shapes. `signed_event`
computes a real `Stripe-Signature` header (HMAC-SHA256 of "{t}.{payload}"), so the
webhook endpoint's verification runs exactly as against Stripe.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SECRET_KEY = "sk_test_" + "f4ke" * 6
WEBHOOK_SECRET = "whsec_" + "s1gn" * 8


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header Stripe would send for `payload`."""
    at = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def event(event_type: str, obj: dict[str, Any], event_id: str | None = None) -> bytes:
    body = {
        "id": event_id or "evt_" + secrets.token_hex(12),
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }
    return json.dumps(body).encode()


@dataclass
class FakeStripe:
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_idempotency_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    fail_next: int = 0

    def _authorised(self, request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Basic "):
            return False
        return base64.b64decode(auth[6:]).decode().split(":")[0] == SECRET_KEY

    async def _handle(self, request: Request, create: Any) -> JSONResponse:
        if not self._authorised(request):
            return JSONResponse({"error": {"message": "Invalid API Key provided"}}, 401)
        form = {k: str(v) for k, v in (await request.form()).items()}
        self.calls.append((request.url.path, form))
        if self.fail_next:
            self.fail_next -= 1
            return JSONResponse({"error": {"message": "An error occurred on Stripe"}}, 500)
        key = request.headers.get("idempotency-key")
        if key and key in self.by_idempotency_key:
            return JSONResponse(self.by_idempotency_key[key])
        result, status = create(form)
        if key and status == 200:
            self.by_idempotency_key[key] = result
        return JSONResponse(result, status)

    @staticmethod
    def _metadata(form: dict[str, str], prefix: str = "metadata") -> dict[str, str]:
        start = prefix + "["
        return {k[len(start) : -1]: v for k, v in form.items() if k.startswith(start)}

    def _intent(self, form: dict[str, str]) -> tuple[dict[str, Any], int]:
        if not form.get("amount", "").isdigit() or not form.get("currency"):
            return {"error": {"message": "Missing required param: amount"}}, 400
        intent_id = "pi_" + secrets.token_hex(12)
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(form["amount"]),
            "currency": form["currency"],
            "status": "requires_payment_method",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
            "metadata": self._metadata(form),
        }
        self.intents[intent_id] = intent
        return intent, 200

    def _session(self, form: dict[str, str]) -> tuple[dict[str, Any], int]:
        if form.get("mode") != "payment" or "success_url" not in form:
            return {"error": {"message": "Missing required param: success_url"}}, 400
        session_id = "cs_test_" + secrets.token_hex(12)
        session = {
            "id": session_id,
            "object": "checkout.session",
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            "payment_intent": None,
            "payment_status": "unpaid",
            "amount_total": int(form["line_items[0][price_data][unit_amount]"]),
            "metadata": self._metadata(form),
            "intent_metadata": self._metadata(form, "payment_intent_data[metadata]"),
        }
        self.sessions[session_id] = session
        return session, 200

    def _refund(self, form: dict[str, str]) -> tuple[dict[str, Any], int]:
        intent = self.intents.get(form.get("payment_intent", ""))
        if intent is None:
            return {"error": {"message": "No such payment_intent"}}, 404
        refunded = sum(
            r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent["id"]
        )
        amount = int(form.get("amount", intent["amount"] - refunded))
        if amount + refunded > intent["amount"]:
            return {"error": {"message": "Refund amount exceeds the charge"}}, 400
        refund = {
            "id": "re_" + secrets.token_hex(12),
            "object": "refund",
            "amount": amount,
            "payment_intent": intent["id"],
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        return refund, 200

    async def payment_intents(self, request: Request) -> JSONResponse:
        return await self._handle(request, self._intent)

    async def checkout_sessions(self, request: Request) -> JSONResponse:
        return await self._handle(request, self._session)

    async def create_refund(self, request: Request) -> JSONResponse:
        return await self._handle(request, self._refund)

    def succeeded(self, intent_id: str) -> dict[str, Any]:
        """The PaymentIntent as it looks once the shopper paid."""
        intent = self.intents[intent_id]
        intent["status"] = "succeeded"
        return dict(intent)

    def session_completed(self, session_id: str) -> dict[str, Any]:
        """The Checkout Session once paid (Stripe creates its PaymentIntent then)."""
        session = self.sessions[session_id]
        intent, _ = self._intent(
            {
                "amount": str(session["amount_total"]),
                "currency": "eur",
                **{f"metadata[{k}]": v for k, v in session["intent_metadata"].items()},
            }
        )
        intent["status"] = "succeeded"
        session.update(payment_intent=intent["id"], payment_status="paid", status="complete")
        return dict(session)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/payment_intents", self.payment_intents, methods=["POST"]),
                Route("/v1/checkout/sessions", self.checkout_sessions, methods=["POST"]),
                Route("/v1/refunds", self.create_refund, methods=["POST"]),
            ]
        )

"""How SMS and push messages leave Mercato: a signed HTTP webhook, or files in development.

A real gateway (an SMS aggregator, a push service, a small relay of the merchant's own)
is plugged in with settings only: Mercato POSTs JSON to `MERCATO_SMS_WEBHOOK_URL` /
`MERCATO_PUSH_WEBHOOK_URL` and signs it with HMAC-SHA256 under the matching secret:

    X-Mercato-Timestamp: <unix seconds>
    X-Mercato-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{raw body}")>

The receiver recomputes the HMAC over the raw body, compares in constant time and
rejects old timestamps (replays). Any 2xx is success; a JSON `{"id": …}` answer is kept
as the provider's reference. Without a URL, messages are appended to
`DATA_DIR/notifications/<channel>.jsonl`, as mail becomes `.eml` files.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import httpx

from mercato.kernel import egress
from mercato.kernel.logging import get_logger
from mercato.settings import Settings

SIGNATURE_HEADER = "X-Mercato-Signature"
TIMESTAMP_HEADER = "X-Mercato-Timestamp"
MAX_ANSWER_BYTES = 65_536  # a gateway answers with a small JSON receipt

log = get_logger("mercato.notifications")


@dataclass(frozen=True)
class OutboundMessage:
    delivery_id: str
    tenant_id: str
    event: str
    channel: str  # sms | push
    to: str
    title: str
    text: str


class ProviderError(Exception):
    """The gateway refused or could not be reached; the delivery is retried."""


class NotificationProvider(Protocol):
    async def send(self, message: OutboundMessage) -> str | None:
        """Hand the message over; return the gateway's reference, if it gives one."""
        ...


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The value of `X-Mercato-Signature` for `body` sent at `timestamp`."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookProvider:
    def __init__(self, url: str, secret: bytes, *, timeout_s: float) -> None:
        self.url = url
        self.secret = secret
        self.timeout_s = timeout_s

    async def send(self, message: OutboundMessage) -> str | None:
        body = json.dumps(asdict(message), separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self.secret, timestamp, body),
            "Idempotency-Key": message.delivery_id,  # retries of one delivery share it
        }
        try:
            async with egress.http_client(
                timeout_s=self.timeout_s, max_response_bytes=MAX_ANSWER_BYTES
            ) as client:
                response = await client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.info("notification_gateway_failed", channel=message.channel, error=repr(exc))
            raise ProviderError(
                f"{message.channel} gateway unreachable: {egress.public_message(exc)}"
            ) from exc
        if not response.is_success:  # what the gateway said stays out of the stored error
            raise ProviderError(f"{message.channel} gateway answered {response.status_code}")
        try:
            reference = response.json().get("id")
        except (ValueError, AttributeError):
            return None
        return str(reference) if reference is not None else None


class FileProvider:
    """Development stand-in: one JSON line per message, readable with any tool."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, message: OutboundMessage) -> str | None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / f"{message.channel}.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(message), ensure_ascii=False) + "\n")
        return None


class ProviderNotConfigured(ProviderError):
    """A webhook URL without its secret: refusing to send unsigned messages."""


def provider_for(channel: str, settings: Settings) -> NotificationProvider:
    """The webhook for `channel` when its URL is set, else the development file provider."""
    url, secret = {
        "sms": (settings.sms_webhook_url, settings.sms_webhook_secret),
        "push": (settings.push_webhook_url, settings.push_webhook_secret),
    }[channel]
    if not url:
        return FileProvider(Path(settings.data_dir) / "notifications")
    if secret is None or not secret.get_secret_value():
        raise ProviderNotConfigured(
            f"MERCATO_{channel.upper()}_WEBHOOK_SECRET must be set with "
            f"MERCATO_{channel.upper()}_WEBHOOK_URL"
        )
    return WebhookProvider(
        url, secret.get_secret_value().encode(), timeout_s=settings.notification_webhook_timeout_s
    )


def transport_name(channel: str, settings: Settings) -> str:
    """How a channel is delivered in this deployment (shown with the preferences)."""
    if channel == "email":
        return "smtp" if settings.smtp_url else "eml-files"
    url = settings.sms_webhook_url if channel == "sms" else settings.push_webhook_url
    return "webhook" if url else "jsonl-files"

"""Shapes of `{T}/notifications/preferences` and `{T}/notifications/deliveries`."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, TypeAdapter, model_validator

from mercato.modules.identity import Role
from mercato.modules.notifications.event_catalog import EVENTS

Channel = Literal["email", "sms", "push"]
CHANNELS: tuple[Channel, ...] = ("email", "sms", "push")
CUSTOMER = "customer"
ROLE_PREFIX = "role:"
PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")  # E.164
PUSH_TARGET = re.compile(r"^[A-Za-z0-9:_\-./]{1,256}$")  # a device token or topic
_EMAIL = TypeAdapter(EmailStr)


def _recipient_problem(channel: Channel, recipient: str) -> str | None:
    if recipient == CUSTOMER:
        return None
    if channel == "email":
        if recipient.startswith(ROLE_PREFIX):
            role = recipient.removeprefix(ROLE_PREFIX)
            return None if role in Role.__members__ else f"unknown role {role!r}"
        try:
            _EMAIL.validate_python(recipient)
        except ValueError:
            return f"{recipient!r} is not an e-mail address, role:<role> or customer"
        return None
    if channel == "sms":
        return None if PHONE.match(recipient) else f"{recipient!r} is not an E.164 number"
    return None if PUSH_TARGET.match(recipient) else f"{recipient!r} is not a push target"


class NotificationRule(BaseModel):
    """Send `event` on `channel` to `recipients`.

    Recipients: e-mail addresses, `role:<role>` (members with that role or above) or
    `customer` (the payload's customer_email) for e-mail; E.164 numbers or `customer`
    for SMS; device tokens or topics or `customer` for push.
    """

    model_config = ConfigDict(extra="forbid")

    event: str = Field(examples=["order.created"])
    channel: Channel
    enabled: bool = Field(default=True, strict=True)
    recipients: list[str] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _known_event_and_recipients(self) -> NotificationRule:
        if self.event not in EVENTS:
            raise ValueError(f"unknown event {self.event!r}; one of {', '.join(EVENTS)}")
        self.recipients = [r.strip() for r in self.recipients]
        problems = [p for r in self.recipients if (p := _recipient_problem(self.channel, r))]
        if problems:
            raise ValueError("; ".join(problems))
        return self


class PreferencesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locale: str | None = Field(
        default=None, pattern=r"^[a-z]{2}(?:[-_][A-Za-z]{2})?$", examples=["de"]
    )
    rules: list[NotificationRule] = Field(max_length=200)

    @model_validator(mode="after")
    def _one_rule_per_event_and_channel(self) -> PreferencesUpdate:
        seen: set[tuple[str, str]] = set()
        for rule in self.rules:
            key = (rule.event, rule.channel)
            if key in seen:
                raise ValueError(f"two rules for {rule.event} on {rule.channel}")
            seen.add(key)
        return self


class ChannelStatus(BaseModel):
    transport: str = Field(description="smtp, eml-files, webhook or jsonl-files")


class PreferencesRead(BaseModel):
    locale: str | None
    effective_locale: str
    customized: bool = Field(description="False: no rules saved yet, the defaults apply")
    rules: list[NotificationRule]
    events: dict[str, str]
    channels: dict[str, ChannelStatus]
    updated_at: datetime | None


class DeliveryRead(BaseModel):
    id: uuid.UUID
    event: str
    event_key: str
    channel: str
    recipient: str
    locale: str
    subject: str
    status: str = Field(description="queued, sent or failed")
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

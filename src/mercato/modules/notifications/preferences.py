"""Which events a tenant is notified about, on which channels, to whom, in which language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.deps import RequestMeta
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.audit import field_changes, record_audit
from mercato.modules.identity import TenantFacts, tenant_facts
from mercato.modules.notifications.event_catalog import EVENTS
from mercato.modules.notifications.messages import locale_chain
from mercato.modules.notifications.models import NotificationPreference
from mercato.modules.notifications.providers import transport_name
from mercato.modules.notifications.schemas import (
    CHANNELS,
    ChannelStatus,
    NotificationRule,
    PreferencesRead,
    PreferencesUpdate,
)
from mercato.settings import get_settings

# Until a tenant saves its own rules, its admins hear about what needs a person.
DEFAULT_RULES = (
    NotificationRule(event="inventory.low_stock", channel="email", recipients=["role:admin"]),
    NotificationRule(event="feed_job.failed", channel="email", recipients=["role:admin"]),
    NotificationRule(event="feed_job.failed_again", channel="email", recipients=["role:admin"]),
    NotificationRule(event="tracking.ga4_stale", channel="email", recipients=["role:admin"]),
    NotificationRule(event="feedback.satisfaction_low", channel="email", recipients=["role:admin"]),
)


@dataclass(frozen=True)
class TenantPreferences:
    tenant_name: str
    locale: str
    rules: list[NotificationRule]
    stored: NotificationPreference | None


async def load_preferences(session: AsyncSession, tenant: TenantFacts) -> TenantPreferences:
    """The rules in force for the session's tenant (saved ones, else the defaults)."""
    stored = await session.get(NotificationPreference, tenant.id)
    tenant_locale = tenant.settings.get("locale")
    locale = (stored.locale if stored and stored.locale else None) or tenant_locale
    rules = (
        [NotificationRule.model_validate(rule) for rule in stored.rules]
        if stored is not None
        else list(DEFAULT_RULES)
    )
    return TenantPreferences(tenant.name, locale_chain(locale)[0], rules, stored)


def _read(preferences: TenantPreferences) -> PreferencesRead:
    settings = get_settings()
    stored = preferences.stored
    updated_at: datetime | None = stored.updated_at if stored else None
    return PreferencesRead(
        locale=stored.locale if stored else None,
        effective_locale=preferences.locale,
        customized=stored is not None,
        rules=preferences.rules,
        events={name: event.description for name, event in EVENTS.items()},
        channels={c: ChannelStatus(transport=transport_name(c, settings)) for c in CHANNELS},
        updated_at=updated_at,
    )


async def _tenant(session: AsyncSession, principal: TenantPrincipal) -> TenantFacts:
    tenant = await tenant_facts(session, principal.tenant_id)
    assert tenant is not None  # `require` has just found it
    return tenant


async def get_preferences(session: AsyncSession, principal: TenantPrincipal) -> PreferencesRead:
    principal.require(Permission.NOTIFICATIONS_READ)
    return _read(await load_preferences(session, await _tenant(session, principal)))


async def replace_preferences(
    session: AsyncSession, principal: TenantPrincipal, body: PreferencesUpdate, meta: RequestMeta
) -> PreferencesRead:
    """Save the whole rule set (PUT semantics); audited, since it decides who gets data."""
    principal.require(Permission.NOTIFICATIONS_WRITE)
    tenant = await _tenant(session, principal)
    current = await load_preferences(session, tenant)
    rules = [rule.model_dump() for rule in body.rules]
    stored = current.stored or NotificationPreference(tenant_id=tenant.id, rules=[])
    before = {"locale": stored.locale, "rules": [r.model_dump() for r in current.rules]}
    stored.locale = body.locale
    stored.rules = rules
    stored.updated_by = principal.actor
    session.add(stored)
    await session.flush()
    await session.refresh(stored, ["updated_at"])
    await record_audit(
        session,
        tenant_id=tenant.id,
        actor=principal,
        action="notifications.preferences_updated",
        target=f"tenant:{tenant.id}",
        changes=field_changes(before, {"locale": body.locale, "rules": rules}),
        meta=meta,
    )
    return _read(await load_preferences(session, tenant))

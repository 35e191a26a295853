"""Store, read and remove integration settings; decrypt them for jobs.

Writes that set, change or clear a secret need step-up (a password entered in the last
five minutes); a write that only changes plain fields keeps the stored secrets. Secrets
are sealed with the tenant id and kind as associated data, so a sealed value copied to
another row or tenant does not open.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.crypto import seal, sealed_key_id, unseal
from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import NotFound, ValidationFailed
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal, TenantPrincipal
from mercato.modules.audit import field_changes, record_audit
from mercato.modules.integrations.kinds import KINDS, KindSpec, masked
from mercato.modules.integrations.models import IntegrationConfig
from mercato.modules.integrations.schemas import IntegrationRead


def _purpose(tenant_id: uuid.UUID, kind: str) -> str:
    return f"integration:{tenant_id}:{kind}"


def _secrets_of(row: IntegrationConfig) -> dict[str, str]:
    if row.secrets_sealed is None:
        return {}
    opened: dict[str, str] = json.loads(
        unseal(row.secrets_sealed, purpose=_purpose(row.tenant_id, row.kind))
    )
    return opened


def _spec(kind: str) -> KindSpec:
    spec = KINDS.get(kind)
    if spec is None:
        raise NotFound(f"No integration kind {kind!r}; kinds: {', '.join(sorted(KINDS))}")
    return spec


def to_read(row: IntegrationConfig) -> IntegrationRead:
    spec = _spec(row.kind)
    return IntegrationRead(
        kind=row.kind,
        settings={**row.settings, **masked(spec, _secrets_of(row))},
        key_id=row.key_id,
        updated_by=row.updated_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _validate(spec: KindSpec, values: dict[str, Any]) -> dict[str, Any]:
    try:
        model = spec.model.model_validate(values)
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(str(p) for p in err["loc"]) or "body",
                "message": err["msg"],
                "code": err["type"],
            }
            for err in exc.errors(include_url=False, include_context=False, include_input=False)
        ]
        raise ValidationFailed("The integration settings are not valid", errors=errors) from None
    dumped: dict[str, Any] = model.model_dump(mode="json")
    return dumped


async def put_integration(
    session: AsyncSession,
    principal: TenantPrincipal,
    kind: str,
    body: dict[str, Any],
    meta: RequestMeta | None = None,
) -> tuple[IntegrationRead, bool]:
    """Create or replace a tenant's integration; omitted secrets keep their stored value."""
    principal.require(Permission.INTEGRATIONS_WRITE)
    spec = _spec(kind)
    row = await session.get(IntegrationConfig, (principal.tenant_id, kind), with_for_update=True)
    secrets = _secrets_of(row) if row else {}
    if any(name in body for name in spec.secrets):
        principal.require_recent_auth()
    for name in spec.secrets:
        if name in body:
            if body[name] is None:
                secrets.pop(name, None)
            else:
                secrets[name] = body[name]
    plain_in = {k: v for k, v in body.items() if k not in spec.secrets}
    values = _validate(spec, {**plain_in, **secrets})
    secrets = {n: values.pop(n) for n in spec.secrets if values.get(n) is not None}
    for name in spec.secrets:
        values.pop(name, None)
    before = ({**row.settings, **masked(spec, _secrets_of(row))}) if row else {}
    created = row is None
    if row is None:
        row = IntegrationConfig(tenant_id=principal.tenant_id, kind=kind)
        session.add(row)
    row.settings = values
    row.secrets_sealed = (
        seal(json.dumps(secrets).encode(), purpose=_purpose(principal.tenant_id, kind))
        if secrets
        else None
    )
    row.key_id = sealed_key_id(row.secrets_sealed) if row.secrets_sealed else None
    row.updated_by = principal.actor
    await session.flush()
    await session.refresh(row)
    read = to_read(row)
    await record_audit(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="integration.created" if created else "integration.updated",
        target=kind,
        changes=field_changes(before, read.settings),
        meta=meta,
    )
    return read, created


async def get_integration(
    session: AsyncSession, principal: Principal, kind: str
) -> IntegrationRead:
    principal.require(Permission.INTEGRATIONS_READ)
    _spec(kind)
    row = await session.get(IntegrationConfig, (principal.tenant_id, kind))
    if row is None:
        raise NotFound(f"The {kind} integration is not configured")
    return to_read(row)


async def list_integrations(session: AsyncSession, principal: Principal) -> list[IntegrationRead]:
    principal.require(Permission.INTEGRATIONS_READ)
    rows = await session.scalars(
        select(IntegrationConfig)
        .where(IntegrationConfig.tenant_id == principal.tenant_id)
        .order_by(IntegrationConfig.kind)
    )
    return [to_read(row) for row in rows]


async def delete_integration(
    session: AsyncSession, principal: TenantPrincipal, kind: str, meta: RequestMeta | None = None
) -> None:
    """Remove an integration and its secrets (step-up)."""
    principal.require(Permission.INTEGRATIONS_WRITE)
    principal.require_recent_auth()
    _spec(kind)
    row = await session.get(IntegrationConfig, (principal.tenant_id, kind), with_for_update=True)
    if row is None:
        raise NotFound(f"The {kind} integration is not configured")
    await session.delete(row)
    await record_audit(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="integration.deleted",
        target=kind,
        meta=meta,
    )


async def get_integration_config(
    session: AsyncSession, tenant_id: uuid.UUID, kind: str
) -> dict[str, Any] | None:
    """The decrypted settings of a tenant's integration, for jobs; None if not configured.

    The session must be scoped to `tenant_id`. Never return this to a client.
    """
    row = await session.get(IntegrationConfig, (tenant_id, kind))
    if row is None:
        return None
    return {**row.settings, **_secrets_of(row)}

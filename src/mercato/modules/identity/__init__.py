"""Identity and tenancy: staff accounts, tokens, tenants, members, roles, API keys.

Other modules import from here only the request dependencies (`require`, `CurrentUser`),
the gate of lean routes (`pass_gate`), the role/permission vocabulary and what they may
read of a tenant (`active_tenant_ids`, `live_tenants`, `tenant_facts`, `member_emails`).
"""

from mercato.modules.identity.auth import CurrentUser, require
from mercato.modules.identity.gate import pass_gate
from mercato.modules.identity.members import member_emails
from mercato.modules.identity.tenants import (
    TenantFacts,
    active_tenant_ids,
    live_tenants,
    resolve_tenant,
    tenant_facts,
)

__all__ = [
    "CurrentUser",
    "TenantFacts",
    "active_tenant_ids",
    "live_tenants",
    "member_emails",
    "pass_gate",
    "require",
    "resolve_tenant",
    "tenant_facts",
]

"""Identity and tenancy: staff accounts, tokens, tenants, members, roles, API keys.

Other modules import from here only the request dependencies (`require`, `CurrentUser`),
the gate of lean routes (`pass_gate`), the login throttle (`limit_login_attempt`), the
role vocabulary (`Role`), what they may read of a tenant and its staff
(`active_tenant_ids`, `live_tenants`, `tenant_facts`, `tenant_setting`, `member_emails`,
`staff_email`) and what operators do to tenants and accounts (`tenant_page`, `locked_tenant`,
`set_status_for_operator`, `tenants_to_purge`, `grant_platform_admin`) and what a tenant's
export takes from identity (`tenant_row`, `members_staff_rows`).
"""

from mercato.modules.identity.auth import CurrentUser, limit_login_attempt, require
from mercato.modules.identity.export_rows import members_staff_rows, tenant_row
from mercato.modules.identity.gate import pass_gate
from mercato.modules.identity.members import member_emails, staff_email
from mercato.modules.identity.permissions import Role
from mercato.modules.identity.platform_admins import AdminGranted, grant_platform_admin
from mercato.modules.identity.tenants import (
    TenantFacts,
    active_tenant_ids,
    live_tenants,
    locked_tenant,
    resolve_tenant,
    set_status_for_operator,
    tenant_facts,
    tenant_page,
    tenant_setting,
    tenants_to_purge,
)

__all__ = [
    "AdminGranted",
    "CurrentUser",
    "Role",
    "TenantFacts",
    "active_tenant_ids",
    "grant_platform_admin",
    "limit_login_attempt",
    "live_tenants",
    "locked_tenant",
    "member_emails",
    "members_staff_rows",
    "pass_gate",
    "require",
    "resolve_tenant",
    "set_status_for_operator",
    "staff_email",
    "tenant_facts",
    "tenant_page",
    "tenant_row",
    "tenant_setting",
    "tenants_to_purge",
]

"""Platform operators: the operator API, pilot KPIs, tenant purge, retention, backups
and per-tenant export.

Public surface: `Operator` (route dependency for operator-only routes),
`grant_platform_admin`, `purge_tenant`, `enforce_retention`.
"""

from mercato.modules.platform.operators import Operator, grant_platform_admin
from mercato.modules.platform.purge import purge_tenant
from mercato.modules.platform.retention import enforce_retention

__all__ = ["Operator", "enforce_retention", "grant_platform_admin", "purge_tenant"]

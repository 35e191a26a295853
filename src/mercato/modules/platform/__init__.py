"""Platform operators: the operator API, pilot KPIs, tenant purge, retention, backups
and per-tenant export.

Public surface: `Operator` (route dependency for operator-only routes),
`purge_tenant`, `enforce_retention`.
"""

from mercato.modules.platform.operators import Operator
from mercato.modules.platform.purge import purge_tenant
from mercato.modules.platform.retention import enforce_retention

__all__ = ["Operator", "enforce_retention", "purge_tenant"]

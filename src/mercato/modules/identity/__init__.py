"""Identity and tenancy: staff accounts, tokens, tenants, members, roles, API keys.

Other modules import from here only the request dependencies (`require`, `CurrentUser`),
the gate of lean routes (`pass_gate`) and the role/permission vocabulary.
"""

from mercato.modules.identity.auth import CurrentUser, require
from mercato.modules.identity.gate import pass_gate
from mercato.modules.identity.tenants import resolve_tenant

__all__ = ["CurrentUser", "pass_gate", "require", "resolve_tenant"]

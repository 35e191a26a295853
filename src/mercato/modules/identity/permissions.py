"""Roles and API-key kinds → permissions: the one matrix every service check relies on.

owner ⊇ admin ⊇ manager ⊇ sales_rep ⊇ viewer. Permissions read `area:action`.
"""

from __future__ import annotations

from enum import StrEnum

from mercato.kernel.permissions import Permission


class Role(StrEnum):
    owner = "owner"
    admin = "admin"
    manager = "manager"
    sales_rep = "sales_rep"
    viewer = "viewer"


ROLE_ORDER = [Role.viewer, Role.sales_rep, Role.manager, Role.admin, Role.owner]

_VIEWER = {
    Permission.TENANT_READ,
    Permission.CATALOG_READ,
    Permission.INVENTORY_READ,
    Permission.ORDERS_READ,
    Permission.ANALYTICS_READ,
    Permission.EVENTS_READ,
    Permission.RECOMMENDATIONS_READ,
    Permission.RECOMMENDATION_MODELS_READ,
    Permission.EXPERIMENTS_READ,
    Permission.WIDGETS_READ,
    Permission.CHANNELS_READ,
    Permission.PROFILE_READ,
    Permission.REPORTS_READ,
    Permission.CONTENT_READ,
    Permission.FEEDBACK_READ,
    Permission.FEEDBACK_WRITE,
}
_SALES_REP = _VIEWER | {
    Permission.TASKS_READ,
    Permission.TASKS_WRITE,
    Permission.CUSTOMERS_READ,
    Permission.MASTERDATA_READ,
}
_MANAGER = _SALES_REP | {
    Permission.CATALOG_WRITE,
    Permission.INVENTORY_WRITE,
    Permission.ORDERS_WRITE,
    Permission.CHECKOUT_WRITE,
    Permission.CUSTOMERS_WRITE,
    Permission.EVENTS_WRITE,
    Permission.EVENTS_IMPORT,
    Permission.EXPERIMENTS_WRITE,
    Permission.RECOMMENDATION_MODELS_WRITE,
    Permission.WIDGETS_WRITE,
    Permission.CHANNELS_WRITE,
    Permission.CHANNELS_MANAGE,
    Permission.PROFILE_WRITE,
    Permission.REPORTS_WRITE,
    Permission.CONTENT_WRITE,
    Permission.TASKS_MANAGE,
    Permission.MEMBERS_READ,
    Permission.NOTIFICATIONS_READ,
}
_ADMIN = _MANAGER | {
    Permission.TENANT_WRITE,
    Permission.MEMBERS_WRITE,
    Permission.API_KEYS_READ,
    Permission.API_KEYS_WRITE,
    Permission.INTEGRATIONS_READ,
    Permission.INTEGRATIONS_WRITE,
    Permission.MASTERDATA_WRITE,
    Permission.WEBHOOKS_READ,
    Permission.WEBHOOKS_WRITE,
    Permission.REFUNDS_WRITE,
    Permission.AUDIT_READ,
    Permission.NOTIFICATIONS_WRITE,
}
_OWNER = _ADMIN | {Permission.TENANT_DELETE, Permission.TENANT_SUSPEND, Permission.MEMBERS_OWNERS}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.viewer: frozenset(_VIEWER),
    Role.sales_rep: frozenset(_SALES_REP),
    Role.manager: frozenset(_MANAGER),
    Role.admin: frozenset(_ADMIN),
    Role.owner: frozenset(_OWNER),
}

_SECRET_READ = {
    Permission.TENANT_READ,
    Permission.CATALOG_READ,
    Permission.INVENTORY_READ,
    Permission.ORDERS_READ,
    Permission.CUSTOMERS_READ,
    Permission.ANALYTICS_READ,
    Permission.EVENTS_READ,
    Permission.RECOMMENDATIONS_READ,
    Permission.RECOMMENDATION_MODELS_READ,
    Permission.EXPERIMENTS_READ,
    Permission.WIDGETS_READ,
    Permission.CHANNELS_READ,
    Permission.PROFILE_READ,
    Permission.REPORTS_READ,
    Permission.CONTENT_READ,
    Permission.FEEDBACK_READ,
    Permission.TASKS_READ,
    Permission.NOTIFICATIONS_READ,
    Permission.MASTERDATA_READ,
}
_SECRET_WRITE = _SECRET_READ | {
    Permission.CATALOG_WRITE,
    Permission.INVENTORY_WRITE,
    Permission.ORDERS_WRITE,
    Permission.CHECKOUT_WRITE,
    Permission.CUSTOMERS_WRITE,
    Permission.EVENTS_WRITE,
    Permission.EXPERIMENTS_WRITE,
    Permission.RECOMMENDATION_MODELS_WRITE,
    Permission.WIDGETS_WRITE,
    Permission.CHANNELS_WRITE,
    Permission.PROFILE_WRITE,
    Permission.CONTENT_WRITE,
    Permission.FEEDBACK_WRITE,
    Permission.TASKS_WRITE,
}
# Browsers hold publishable keys in the open: reads of public data, and events.
_PUBLISHABLE_READ = {
    Permission.RECOMMENDATIONS_READ,
    Permission.WIDGETS_READ,
    Permission.CONTENT_READ_PUBLIC,
}
# Storefronts in the browser run carts, customer login and checkout with their key.
_PUBLISHABLE_WRITE = _PUBLISHABLE_READ | {
    Permission.EVENTS_WRITE,
    Permission.FEEDBACK_WRITE,
    Permission.CHECKOUT_WRITE,
}

KEY_PERMISSIONS: dict[tuple[str, str], frozenset[str]] = {
    ("secret", "read"): frozenset(_SECRET_READ),
    ("secret", "read_write"): frozenset(_SECRET_WRITE),
    ("publishable", "read"): frozenset(_PUBLISHABLE_READ),
    ("publishable", "read_write"): frozenset(_PUBLISHABLE_WRITE),
}


def role_rank(role: str) -> int:
    return ROLE_ORDER.index(Role(role))


def permissions_for_role(role: str) -> frozenset[str]:
    return ROLE_PERMISSIONS[Role(role)]


def permissions_for_key(kind: str, permission: str) -> frozenset[str]:
    return KEY_PERMISSIONS[(kind, permission)]

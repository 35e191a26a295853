"""Roles and API-key kinds → permissions: the one matrix every service check relies on.

owner ⊇ admin ⊇ manager ⊇ sales_rep ⊇ viewer. Permissions read `area:action`.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    owner = "owner"
    admin = "admin"
    manager = "manager"
    sales_rep = "sales_rep"
    viewer = "viewer"


ROLE_ORDER = [Role.viewer, Role.sales_rep, Role.manager, Role.admin, Role.owner]

_VIEWER = {
    "tenant:read",
    "catalog:read",
    "inventory:read",
    "orders:read",
    "analytics:read",
    "events:read",
    "recommendations:read",
    "experiments:read",
    "widgets:read",
    "channels:read",
    "profile:read",
    "reports:read",
    "content:read",
    "feedback:read",
    "feedback:write",
}
_SALES_REP = _VIEWER | {"tasks:read", "tasks:write", "customers:read", "masterdata:read"}
_MANAGER = _SALES_REP | {
    "catalog:write",
    "inventory:write",
    "orders:write",
    "checkout:write",
    "customers:write",
    "events:write",
    "events:import",
    "experiments:write",
    "widgets:write",
    "channels:write",
    "channels:manage",
    "profile:write",
    "reports:write",
    "content:write",
    "tasks:manage",
    "members:read",
    "notifications:read",
}
_ADMIN = _MANAGER | {
    "tenant:write",
    "members:write",
    "api_keys:read",
    "api_keys:write",
    "integrations:read",
    "integrations:write",
    "masterdata:write",
    "webhooks:read",
    "webhooks:write",
    "refunds:write",
    "audit:read",
    "notifications:write",
}
_OWNER = _ADMIN | {"tenant:delete", "tenant:suspend", "members:owners"}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.viewer: frozenset(_VIEWER),
    Role.sales_rep: frozenset(_SALES_REP),
    Role.manager: frozenset(_MANAGER),
    Role.admin: frozenset(_ADMIN),
    Role.owner: frozenset(_OWNER),
}

_SECRET_READ = {
    "tenant:read",
    "catalog:read",
    "inventory:read",
    "orders:read",
    "customers:read",
    "analytics:read",
    "events:read",
    "recommendations:read",
    "experiments:read",
    "widgets:read",
    "channels:read",
    "profile:read",
    "reports:read",
    "content:read",
    "feedback:read",
    "tasks:read",
    "notifications:read",
    "masterdata:read",
}
_SECRET_WRITE = _SECRET_READ | {
    "catalog:write",
    "inventory:write",
    "orders:write",
    "checkout:write",
    "customers:write",
    "events:write",
    "experiments:write",
    "widgets:write",
    "channels:write",
    "profile:write",
    "content:write",
    "feedback:write",
    "tasks:write",
}
# Browsers hold publishable keys in the open: reads of public data, and events.
_PUBLISHABLE_READ = {"recommendations:read", "widgets:read", "content:read_public"}
# Storefronts in the browser run carts, customer login and checkout with their key.
_PUBLISHABLE_WRITE = _PUBLISHABLE_READ | {"events:write", "feedback:write", "checkout:write"}

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

"""Permission names: what a role or an API key may do, read `area:action`.

Services check them (`principal.require(Permission.CATALOG_WRITE)`), routes declare them
(`require(Permission.CATALOG_READ)`) and identity maps roles and key kinds onto them.
A `StrEnum`, so a typo is a type error and the value is still the string stored in
tokens and shown in errors.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    ANALYTICS_READ = "analytics:read"
    API_KEYS_READ = "api_keys:read"
    API_KEYS_WRITE = "api_keys:write"
    AUDIT_READ = "audit:read"
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"
    CHANNELS_MANAGE = "channels:manage"
    CHANNELS_READ = "channels:read"
    CHANNELS_WRITE = "channels:write"
    CHECKOUT_WRITE = "checkout:write"
    CONTENT_READ = "content:read"
    CONTENT_READ_PUBLIC = "content:read_public"
    CONTENT_WRITE = "content:write"
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    EVENTS_IMPORT = "events:import"
    EVENTS_READ = "events:read"
    EVENTS_WRITE = "events:write"
    EXPERIMENTS_READ = "experiments:read"
    EXPERIMENTS_WRITE = "experiments:write"
    FEEDBACK_READ = "feedback:read"
    FEEDBACK_WRITE = "feedback:write"
    INTEGRATIONS_READ = "integrations:read"
    INTEGRATIONS_WRITE = "integrations:write"
    INVENTORY_READ = "inventory:read"
    INVENTORY_WRITE = "inventory:write"
    MASTERDATA_READ = "masterdata:read"
    MASTERDATA_WRITE = "masterdata:write"
    MEMBERS_OWNERS = "members:owners"
    MEMBERS_READ = "members:read"
    MEMBERS_WRITE = "members:write"
    NOTIFICATIONS_READ = "notifications:read"
    NOTIFICATIONS_WRITE = "notifications:write"
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    PROFILE_READ = "profile:read"
    PROFILE_WRITE = "profile:write"
    RECOMMENDATIONS_READ = "recommendations:read"
    RECOMMENDATION_MODELS_READ = "recommendation_models:read"
    RECOMMENDATION_MODELS_WRITE = "recommendation_models:write"
    REFUNDS_WRITE = "refunds:write"
    REPORTS_READ = "reports:read"
    REPORTS_WRITE = "reports:write"
    TASKS_MANAGE = "tasks:manage"
    TASKS_READ = "tasks:read"
    TASKS_WRITE = "tasks:write"
    TENANT_DELETE = "tenant:delete"
    TENANT_READ = "tenant:read"
    TENANT_SUSPEND = "tenant:suspend"
    TENANT_WRITE = "tenant:write"
    WEBHOOKS_READ = "webhooks:read"
    WEBHOOKS_WRITE = "webhooks:write"
    WIDGETS_READ = "widgets:read"
    WIDGETS_WRITE = "widgets:write"

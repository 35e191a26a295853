"""Rate-limit budgets by route group, and which group a route belongs to.

Budgets apply per caller (API key, staff user, or client IP on the auth routes) and, for
writes, per tenant. Defaults follow the source design; `MERCATO_RATE_LIMITS` overrides any.
"""

from __future__ import annotations

from functools import lru_cache

from mercato.kernel.ratelimit import Limit
from mercato.settings import get_settings

DEFAULT_LIMITS = {
    "login": "10/minute",  # per client IP and e-mail
    "auth": "500/minute",  # per client IP, every /api/v1/auth route
    "catalog": "1000/minute",
    "inventory": "1000/minute",
    "profile": "300/minute",
    "integrations": "200/minute",
    "analytics": "500/minute",
    "events": "60000/minute;burst=5000",  # ingestion from servers and browsers
    "storefront": "6000/minute;burst=600",  # carts, checkout, customers
    "personalization": "30000/minute;burst=3000",
    "default": "1000/minute",
    "tenant_writes": "100/minute;burst=20",  # per tenant, for writes outside ingestion
}

# First path segment after /api/v1/tenants/{tenant_id}/ → group.
SEGMENT_GROUPS = {
    "products": "catalog",
    "categories": "catalog",
    "media": "catalog",
    "inventory": "inventory",
    "inventory-movements": "inventory",
    "inventory-ledger": "inventory",
    "tax-rates": "inventory",
    "shipping-rates": "inventory",
    "pricing-rules": "inventory",
    "locations": "inventory",
    "carts": "storefront",
    "checkout": "storefront",
    "customers": "storefront",
    "orders": "storefront",
    "feedback": "storefront",  # shoppers leave feedback from the storefront
    "public": "storefront",  # published pages read by storefronts
    "events": "events",
    "ingest": "events",
    "users": "events",
    "analytics": "analytics",
    "tasks": "analytics",
    "reports": "analytics",
    "profile": "profile",
    "feed": "integrations",
    "feed-jobs": "integrations",
    "google": "integrations",
    "integrations": "integrations",
    "webhooks": "integrations",
    "recommendations": "personalization",
    "experiments": "personalization",
    "widgets": "personalization",
}
# Groups whose writes are traffic (shoppers, trackers), not merchant edits.
UNMETERED_WRITE_GROUPS = {"events", "storefront", "personalization"}
TENANT_PREFIX = "/api/v1/tenants/{tenant_id}/"


@lru_cache(maxsize=1024)  # route templates: a few hundred distinct strings
def route_group(route_path: str) -> str:
    if route_path.startswith("/api/v1/auth"):
        return "auth"
    if route_path.startswith(TENANT_PREFIX):
        segment = route_path[len(TENANT_PREFIX) :].split("/", 1)[0]
        return SEGMENT_GROUPS.get(segment, "default")
    return "default"


@lru_cache(maxsize=1)
def _limits() -> dict[str, Limit]:
    merged = {**DEFAULT_LIMITS, **get_settings().rate_limits}
    return {group: Limit.parse(spec) for group, spec in merged.items()}


def limit_for(group: str) -> Limit:
    limits = _limits()
    return limits.get(group, limits["default"])

"""Every tenant route of the application, with the permission its dependency demands."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

TENANT_PREFIX = "/api/v1/tenants/{tenant_id}"


@dataclass(frozen=True)
class TenantRoute:
    method: str
    path: str
    permission: str | None

    def url(self, tenant_id: str) -> str:
        filled = self.path.replace("{tenant_id}", tenant_id)
        return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), filled)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _permission(dependant: Dependant) -> str | None:
    for sub in dependant.dependencies:
        found = getattr(sub.call, "permission", None) or _permission(sub)
        if found:
            return str(found)
    return None


def api_routes(routes: list[Any]) -> list[APIRoute]:
    """Flatten included routers (FastAPI keeps them as wrappers around the original router)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(api_routes(route.original_router.routes))
    return found


def tenant_routes(app: FastAPI) -> list[TenantRoute]:
    routes = []
    for route in api_routes(app.routes):
        if route.path.startswith(TENANT_PREFIX):
            for method in sorted(route.methods):
                routes.append(TenantRoute(method, route.path, _permission(route.dependant)))
    return sorted(routes, key=str)

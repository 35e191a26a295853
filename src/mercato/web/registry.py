"""Which screens the dashboard has: one registry that builds the navigation and the overview.

Every file in `mercato.web.screens` is a *screen module*. It exposes

- `router`: an `APIRouter` with its routes (see `mercato.web.pages.screen_router`);
- `SCREENS`: the `Screen`s it adds to the navigation (optional);
- `PANELS`: the `OverviewPanel`s it adds to a tenant's overview (optional).

A screen module imports what it shows from its capability module's public API (`from
mercato.modules.catalog import …`). A screen module that fails to import stops the app
from starting: a broken import must never silently remove a screen.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from types import ModuleType
from typing import Any

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal, TenantPrincipal

SCREEN_PACKAGE = "mercato.web.screens"


class Section(StrEnum):
    """Navigation groups, in the order they appear."""

    home = "home"
    commerce = "commerce"
    marketing = "marketing"
    insights = "insights"
    settings = "settings"

    @property
    def label(self) -> str:
        return SECTION_TITLES[self]


SECTION_TITLES = {
    Section.home: "Home",
    Section.commerce: "Commerce",
    Section.marketing: "Marketing",
    Section.insights: "Insights",
    Section.settings: "Settings",
}


@dataclass(frozen=True)
class Screen:
    """A page of a tenant, reachable from the navigation by whoever holds `permission`."""

    key: str
    title: str
    path: str  # below /app/t/{tenant_id}/; "" is the tenant's home
    permission: Permission
    section: Section
    order: int = 100

    def url(self, tenant_id: object) -> str:
        return f"/app/t/{tenant_id}/{self.path}".rstrip("/")


PanelLoader = Callable[[AsyncSession, TenantPrincipal], Awaitable[Mapping[str, Any]]]


@dataclass(frozen=True)
class OverviewPanel:
    """A card on the tenant overview: `load` reads real data, `template` renders it."""

    key: str
    title: str
    permission: Permission
    template: str
    load: PanelLoader
    order: int = 100


@dataclass(frozen=True)
class NavEntry:
    screen: Screen
    url: str
    current: bool


@dataclass(frozen=True)
class NavSection:
    section: Section
    entries: list[NavEntry]


@dataclass
class Registry:
    screens: list[Screen] = field(default_factory=list)
    panels: list[OverviewPanel] = field(default_factory=list)
    routers: list[APIRouter] = field(default_factory=list)

    def add(self, module: ModuleType) -> None:
        self.routers.append(module.router)
        self.screens.extend(getattr(module, "SCREENS", []))
        self.panels.extend(getattr(module, "PANELS", []))
        self.screens.sort(key=lambda s: (list(Section).index(s.section), s.order, s.title))
        self.panels.sort(key=lambda p: (p.order, p.title))

    def navigation(self, principal: TenantPrincipal, current_path: str) -> list[NavSection]:
        """The nav a principal sees: only screens its role may open."""
        sections: dict[Section, list[NavEntry]] = {}
        for screen in self.screens:
            if not principal.can(screen.permission):
                continue
            url = screen.url(principal.tenant_id)
            current = current_path == url or (
                screen.path != "" and current_path.startswith(url + "/")
            )
            sections.setdefault(screen.section, []).append(NavEntry(screen, url, current))
        return [NavSection(section, entries) for section, entries in sections.items()]

    def panels_for(self, principal: Principal) -> list[OverviewPanel]:
        return [panel for panel in self.panels if principal.can(panel.permission)]


def discover(package: str = SCREEN_PACKAGE) -> Registry:
    """Import every screen module of `package`, in name order, into one registry."""
    registry = Registry()
    root = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda i: i.name):
        registry.add(importlib.import_module(f"{package}.{info.name}"))
    return registry


@lru_cache(maxsize=1)
def get_registry() -> Registry:
    return discover()

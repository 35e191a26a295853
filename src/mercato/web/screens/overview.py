"""The tenant overview: what the tenant is, then every panel the user's role may see.

Panels come from the screen modules (`PANELS`): members and keys today; the analytics
screens add KPI cards and charts the same way once that module lands.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi.responses import HTMLResponse

from mercato.web.pages import Page, screen_router, tenant_page
from mercato.web.registry import OverviewPanel, Screen, Section, get_registry

router = screen_router()

SCREENS = [Screen("overview", "Overview", "", "tenant:read", Section.home, order=0)]


@router.get("")
async def overview(page: Annotated[Page, tenant_page("tenant:read")]) -> HTMLResponse:
    panels: list[tuple[OverviewPanel, Any]] = []
    for panel in get_registry().panels_for(page.principal):
        panels.append((panel, await panel.load(page.session, page.principal)))
    return page.render("screens/overview.html", panels=panels)

"""Settings → Members and roles: list, invite, change a role, remove (each with step-up)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal
from mercato.modules import identity
from mercato.modules.identity import ROLE_ORDER, MemberCreate, MemberUpdate, Role, role_rank
from mercato.web.forms import FormState, form_status, parse, read_form
from mercato.web.pages import Page, screen_router, tenant_page
from mercato.web.registry import OverviewPanel, Screen, Section

router = screen_router()
PATH = "settings/members"

SCREENS = [
    Screen(
        "settings.members", "Members & roles", PATH, Permission.MEMBERS_READ, Section.settings, 10
    )
]


def grantable_roles(principal: Principal) -> list[Role]:
    """Roles this person may hand out: never above their own, owner only by owners."""
    if principal.role is None:
        return []
    own = role_rank(principal.role)
    return [
        role
        for role in reversed(ROLE_ORDER)
        if role_rank(role) <= own
        and (role is not Role.owner or principal.can(Permission.MEMBERS_OWNERS))
    ]


async def _render(
    page: Page,
    *,
    invite: FormState | None = None,
    row: tuple[uuid.UUID, str, FormState] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    listed = await identity.list_members(page.session, page.member)
    return page.render(
        "screens/members.html",
        fragment="screens/_members.html",
        status_code=status_code,
        members=listed,
        roles=grantable_roles(page.member),
        invite=invite or FormState(values={"role": Role.viewer.value}),
        row_id=row[0] if row else None,
        row_action=row[1] if row else None,
        row_form=row[2] if row else FormState(),
        notice=notice,
    )


@router.get("/" + PATH)
async def members_screen(
    page: Annotated[Page, tenant_page(Permission.MEMBERS_READ)],
) -> HTMLResponse:
    return await _render(page)


@router.post("/" + PATH)
async def invite_member(
    page: Annotated[Page, tenant_page(Permission.MEMBERS_WRITE)],
) -> HTMLResponse:
    submitted, form = await read_form(page.request)

    async def invite() -> identity.Member:
        body = parse(MemberCreate, submitted)
        return await identity.add_member(
            page.session, page.member, email=body.email, role=body.role, meta=page.meta
        )

    added = await page.act(form, submitted, invite)
    if added is None:
        return await _render(page, invite=form, status_code=form_status(form))
    return await _render(
        page, notice=f"{added.email} invited as {added.role}; they join once they accept."
    )


@router.post("/" + PATH + "/{user_id}/role")
async def change_role(
    user_id: uuid.UUID, page: Annotated[Page, tenant_page(Permission.MEMBERS_WRITE)]
) -> HTMLResponse:
    submitted, form = await read_form(page.request)

    async def change() -> identity.Member:
        body = parse(MemberUpdate, submitted)
        return await identity.change_role(
            page.session, page.member, user_id=user_id, role=body.role, meta=page.meta
        )

    changed = await page.act(form, submitted, change)
    if changed is None:
        return await _render(page, row=(user_id, "role", form), status_code=form_status(form))
    return await _render(page, notice=f"{changed.email} is now {changed.role}.")


@router.post("/" + PATH + "/{user_id}/remove")
async def remove_member(
    user_id: uuid.UUID, page: Annotated[Page, tenant_page(Permission.MEMBERS_WRITE)]
) -> HTMLResponse:
    submitted, form = await read_form(page.request)

    async def remove() -> bool:
        await identity.remove_member(page.session, page.member, user_id=user_id, meta=page.meta)
        return True

    if await page.act(form, submitted, remove) is None:
        return await _render(page, row=(user_id, "remove", form), status_code=form_status(form))
    return await _render(page, notice="Member removed.")


async def _team(session: AsyncSession, principal: Principal) -> Mapping[str, Any]:
    listed = await identity.list_members(session, principal)
    active = [m for m in listed if m.status == "active"]
    return {
        "active": len(active),
        "invited": len(listed) - len(active),
        "by_role": sorted(
            Counter(m.role for m in active).items(), key=lambda item: -role_rank(item[0])
        ),
        "url": f"/app/t/{principal.tenant_id}/{PATH}",
    }


PANELS = [
    OverviewPanel(
        "members", "Team", Permission.MEMBERS_READ, "panels/members.html", _team, order=50
    )
]

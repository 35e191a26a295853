"""Content pages: create, read, update, delete, revisions, and what storefronts may see.

Every save renders the Markdown once (stored in `html`) and appends a revision holding the
page's editable fields, so reads never render and every past version can be shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import Conflict, NotFound
from mercato.kernel.pagination import clamp_limit, encode_cursor, read_cursor
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal, TenantPrincipal
from mercato.modules.audit import field_changes, record_audit
from mercato.modules.content.models import ContentPage, ContentPageRevision
from mercato.modules.content.rendering import render_markdown
from mercato.modules.content.schemas import PageCreate, PageUpdate

EDITABLE = (
    "slug",
    "title",
    "body",
    "status",
    "publish_at",
    "seo_title",
    "seo_description",
    "canonical_url",
    "og_image_url",
    "noindex",
)


class SlugTaken(Conflict):
    slug, title = "slug-taken", "Another page already uses this slug"


@dataclass(frozen=True)
class PageView:
    page: ContentPage
    is_live: bool


def is_live(page: ContentPage, now: datetime | None = None) -> bool:
    """Published, and its publish time (if any) has come."""
    moment = now or datetime.now(UTC)
    return page.status == "published" and (page.publish_at is None or page.publish_at <= moment)


def _snapshot(page: ContentPage) -> dict[str, Any]:
    values = {name: getattr(page, name) for name in EDITABLE}
    if values["publish_at"] is not None:
        values["publish_at"] = values["publish_at"].isoformat()
    return values


def _audit_view(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Audit entries record that the body changed, not the whole Markdown text."""
    view = {k: v for k, v in snapshot.items() if k != "body"}
    view["body_chars"] = len(snapshot["body"])
    return view


async def _slug_free(session: AsyncSession, slug: str) -> None:
    if await session.scalar(select(ContentPage.id).where(ContentPage.slug == slug)) is not None:
        raise SlugTaken(f"The slug {slug!r} is already used by another page")


async def _page(session: AsyncSession, slug: str) -> ContentPage:
    page = await session.scalar(select(ContentPage).where(ContentPage.slug == slug))
    if page is None:
        raise NotFound(f"No page {slug!r}")
    return page


def _stored(name: str, value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # API times are UTC
    if name.endswith("_url") and value is not None:
        return str(value)
    return value


def _apply(page: ContentPage, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        setattr(page, name, _stored(name, value))
    if "body" in changes:
        page.html = render_markdown(page.body)
    if page.status == "published" and page.publish_at is None:
        page.publish_at = datetime.now(UTC)


def _revision(page: ContentPage, author: str) -> ContentPageRevision:
    return ContentPageRevision(
        tenant_id=page.tenant_id,
        page_id=page.id,
        revision=page.revision,
        snapshot=_snapshot(page),
        author=author,
    )


async def create_page(
    session: AsyncSession, principal: TenantPrincipal, body: PageCreate, meta: RequestMeta
) -> PageView:
    """A new page (draft unless said otherwise); 409 `slug-taken` if the slug is used."""
    principal.require(Permission.CONTENT_WRITE)
    await _slug_free(session, body.slug)
    page = ContentPage(
        tenant_id=principal.tenant_id,
        revision=1,
        noindex=False,
        created_by=principal.actor,
        updated_by=principal.actor,
    )
    _apply(page, body.model_dump(exclude_none=True))
    session.add(page)
    await session.flush()
    session.add(_revision(page, principal.actor))
    await record_audit(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="content.page_created",
        target=f"page:{page.id}",
        changes=field_changes({}, _audit_view(_snapshot(page))),
        meta=meta,
    )
    await session.flush()
    return PageView(page, is_live(page))


async def get_page(session: AsyncSession, principal: Principal, slug: str) -> PageView:
    principal.require(Permission.CONTENT_READ)
    page = await _page(session, slug)
    return PageView(page, is_live(page))


async def list_pages(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    limit: int | None,
    cursor: str | None,
) -> tuple[list[PageView], str | None]:
    """Every page in slug order, optionally of one status."""
    principal.require(Permission.CONTENT_READ)
    size = clamp_limit(limit)
    query = select(ContentPage).order_by(ContentPage.slug)
    if status:
        query = query.where(ContentPage.status == status)
    after = read_cursor(cursor, lambda c: str(c["slug"]))
    if after is not None:
        query = query.where(ContentPage.slug > after)
    rows = list((await session.scalars(query.limit(size + 1))).all())
    now = datetime.now(UTC)
    views = [PageView(page, is_live(page, now)) for page in rows[:size]]
    next_cursor = encode_cursor({"slug": rows[size - 1].slug}) if len(rows) > size else None
    return views, next_cursor


async def update_page(
    session: AsyncSession,
    principal: TenantPrincipal,
    slug: str,
    body: PageUpdate,
    meta: RequestMeta,
) -> PageView:
    """Change any subset of fields; a save that changes something adds a revision."""
    principal.require(Permission.CONTENT_WRITE)
    page = await _page(session, slug)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("slug") not in (None, page.slug):
        await _slug_free(session, changes["slug"])
    before = _snapshot(page)
    _apply(page, changes)
    after = _snapshot(page)
    if after == before:
        return PageView(page, is_live(page))
    page.revision += 1
    page.updated_by = principal.actor
    await session.flush()
    await session.refresh(page, ["updated_at"])
    session.add(_revision(page, principal.actor))
    await record_audit(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="content.page_updated",
        target=f"page:{page.id}",
        changes=field_changes(_audit_view(before), _audit_view(after)),
        meta=meta,
    )
    return PageView(page, is_live(page))


async def delete_page(
    session: AsyncSession, principal: TenantPrincipal, slug: str, meta: RequestMeta
) -> None:
    """Delete a page and its revisions (the audit log keeps that it existed)."""
    principal.require(Permission.CONTENT_WRITE)
    page = await _page(session, slug)
    snapshot = _audit_view(_snapshot(page))
    await session.delete(page)
    await session.flush()
    await record_audit(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="content.page_deleted",
        target=f"page:{page.id}",
        changes=field_changes(snapshot, {}),
        meta=meta,
    )


async def list_revisions(
    session: AsyncSession,
    principal: Principal,
    slug: str,
    *,
    limit: int | None,
    cursor: str | None,
) -> tuple[list[ContentPageRevision], str | None]:
    """A page's revisions, newest first."""
    principal.require(Permission.CONTENT_READ)
    page = await _page(session, slug)
    size = clamp_limit(limit)
    query = (
        select(ContentPageRevision)
        .where(ContentPageRevision.page_id == page.id)
        .order_by(ContentPageRevision.revision.desc())
    )
    before = read_cursor(cursor, lambda c: int(c["revision"]))
    if before is not None:
        query = query.where(ContentPageRevision.revision < before)
    rows = list((await session.scalars(query.limit(size + 1))).all())
    if len(rows) <= size:
        return rows, None
    return rows[:size], encode_cursor({"revision": rows[size - 1].revision})


def _live() -> Any:
    return (ContentPage.status == "published") & (
        ContentPage.publish_at.is_(None) | (ContentPage.publish_at <= func.now())
    )


async def get_live_page(session: AsyncSession, principal: Principal, slug: str) -> ContentPage:
    """A page as storefronts see it: 404 unless published and live."""
    principal.require(Permission.CONTENT_READ_PUBLIC)
    page = await session.scalar(select(ContentPage).where(ContentPage.slug == slug, _live()))
    if page is None:
        raise NotFound(f"No published page {slug!r}")
    return page


async def list_live_pages(session: AsyncSession, principal: Principal) -> list[ContentPage]:
    """Every live page, for a storefront's navigation."""
    principal.require(Permission.CONTENT_READ_PUBLIC)
    return list(
        await session.scalars(select(ContentPage).where(_live()).order_by(ContentPage.slug))
    )

"""`{T}/pages` for staff and integrations; `{T}/public/pages` for storefronts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.pagination import Page
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.content import service
from mercato.modules.content.models import ContentPage, ContentPageRevision
from mercato.modules.content.schemas import (
    PageCreate,
    PageRead,
    PageRevisionRead,
    PageStatus,
    PageUpdate,
    PublicPageRead,
)
from mercato.modules.identity import require

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["content"])


def _read(view: service.PageView) -> PageRead:
    page = view.page
    return PageRead(
        id=page.id,
        slug=page.slug,
        title=page.title,
        body=page.body,
        html=page.html,
        status=page.status,
        publish_at=page.publish_at,
        is_live=view.is_live,
        seo_title=page.seo_title,
        seo_description=page.seo_description,
        canonical_url=page.canonical_url,
        og_image_url=page.og_image_url,
        noindex=page.noindex,
        revision=page.revision,
        created_by=page.created_by,
        updated_by=page.updated_by,
        created_at=page.created_at,
        updated_at=page.updated_at,
    )


def _public(page: ContentPage) -> PublicPageRead:
    return PublicPageRead(
        slug=page.slug,
        title=page.title,
        html=page.html,
        published_at=page.publish_at,
        updated_at=page.updated_at,
        seo_title=page.seo_title,
        seo_description=page.seo_description,
        canonical_url=page.canonical_url,
        og_image_url=page.og_image_url,
        noindex=page.noindex,
    )


def _revision(row: ContentPageRevision) -> PageRevisionRead:
    return PageRevisionRead(
        revision=row.revision, author=row.author, created_at=row.created_at, page=row.snapshot
    )


@router.post("/pages", status_code=status.HTTP_201_CREATED, response_model=PageRead)
async def create_page(
    body: PageCreate,
    principal: Annotated[TenantPrincipal, require(Permission.CONTENT_WRITE)],
    session: DbSession,
    meta: Meta,
) -> PageRead:
    return _read(await service.create_page(session, principal, body, meta))


@router.get("/pages", response_model=Page[PageRead])
async def list_pages(
    principal: Annotated[TenantPrincipal, require(Permission.CONTENT_READ)],
    session: DbSession,
    status: PageStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[PageRead]:
    views, next_cursor = await service.list_pages(
        session, principal, status=status, limit=limit, cursor=cursor
    )
    return Page[PageRead](data=[_read(v) for v in views], next_cursor=next_cursor)


@router.get("/pages/{slug}", response_model=PageRead)
async def get_page(
    slug: str,
    principal: Annotated[TenantPrincipal, require(Permission.CONTENT_READ)],
    session: DbSession,
) -> PageRead:
    return _read(await service.get_page(session, principal, slug))


@router.patch("/pages/{slug}", response_model=PageRead)
async def update_page(
    slug: str,
    body: PageUpdate,
    principal: Annotated[TenantPrincipal, require(Permission.CONTENT_WRITE)],
    session: DbSession,
    meta: Meta,
) -> PageRead:
    return _read(await service.update_page(session, principal, slug, body, meta))


@router.delete("/pages/{slug}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_page(
    slug: str,
    principal: Annotated[TenantPrincipal, require(Permission.CONTENT_WRITE)],
    session: DbSession,
    meta: Meta,
) -> Response:
    await service.delete_page(session, principal, slug, meta)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/pages/{slug}/revisions", response_model=Page[PageRevisionRead])
async def list_revisions(
    slug: str,
    principal: Annotated[TenantPrincipal, require(Permission.CONTENT_READ)],
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[PageRevisionRead]:
    rows, next_cursor = await service.list_revisions(
        session, principal, slug, limit=limit, cursor=cursor
    )
    return Page[PageRevisionRead](data=[_revision(r) for r in rows], next_cursor=next_cursor)


@router.get("/public/pages", response_model=Page[PublicPageRead])
async def list_public_pages(
    principal: Annotated[TenantPrincipal, require(Permission.CONTENT_READ_PUBLIC)],
    session: DbSession,
) -> Page[PublicPageRead]:
    """Live pages for a storefront (publishable key)."""
    pages = await service.list_live_pages(session, principal)
    return Page[PublicPageRead](data=[_public(p) for p in pages])


@router.get("/public/pages/{slug}", response_model=PublicPageRead)
async def get_public_page(
    slug: str,
    principal: Annotated[TenantPrincipal, require(Permission.CONTENT_READ_PUBLIC)],
    session: DbSession,
) -> PublicPageRead:
    """A live page for a storefront; drafts, archived and scheduled pages answer 404."""
    return _public(await service.get_live_page(session, principal, slug))

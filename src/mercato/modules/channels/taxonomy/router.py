"""`{T}/google/taxonomy`, `{T}/categories/…alignment…`: Google's taxonomy and the alignment of
the merchant's categories with it (Channels section of API.md)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.pagination import Page
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.channels.taxonomy import alignment
from mercato.modules.channels.taxonomy.schemas import (
    AlignBody,
    AlignmentAuditRead,
    AlignmentCoverage,
    AlignmentSuggestions,
    CategoryAlignmentRead,
    GoogleCategoryList,
    GoogleCategoryRead,
)
from mercato.modules.channels.taxonomy.store import search_taxonomy
from mercato.modules.identity import require

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["channels"])
Reader = Annotated[TenantPrincipal, require(Permission.CHANNELS_READ)]
Writer = Annotated[TenantPrincipal, require(Permission.CHANNELS_WRITE)]
Limit = Annotated[int, Query(ge=1, le=500)]


def _tenant(principal: TenantPrincipal) -> uuid.UUID:
    return principal.tenant_id


@router.get("/google/taxonomy", response_model=GoogleCategoryList)
async def search_google_categories(
    principal: Reader,
    session: DbSession,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> GoogleCategoryList:
    """Google product categories matching every word of `q` (prefixes count), or id `q`."""
    found = await search_taxonomy(session, q, limit)
    return GoogleCategoryList(
        data=[GoogleCategoryRead.model_validate(c, from_attributes=True) for c in found]
    )


@router.get("/categories/alignment", response_model=AlignmentCoverage)
async def alignment_coverage(principal: Reader, session: DbSession) -> AlignmentCoverage:
    """How much of the catalog is aligned: per category, and the share of products."""
    return await alignment.alignment_coverage(session, _tenant(principal))


@router.get("/categories/alignment/history", response_model=Page[AlignmentAuditRead])
async def alignment_history(
    principal: Reader,
    session: DbSession,
    category_id: uuid.UUID | None = None,
    limit: Limit = 50,
    cursor: str | None = None,
) -> Page[AlignmentAuditRead]:
    """The `category_alignment_audit` trail, newest first."""
    rows, next_cursor = await alignment.alignment_history(
        session, category_id=category_id, limit=limit, cursor=cursor
    )
    return Page[AlignmentAuditRead](
        data=[AlignmentAuditRead.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.get("/categories/{category_id}/alignment-suggestions", response_model=AlignmentSuggestions)
async def alignment_suggestions(
    category_id: uuid.UUID,
    principal: Reader,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> AlignmentSuggestions:
    return await alignment.suggest_alignment(session, _tenant(principal), category_id, limit)


@router.post(
    "/categories/{category_id}/alignment-suggestions/{google_category_id}/accept",
    response_model=CategoryAlignmentRead,
)
async def accept_alignment_suggestion(
    category_id: uuid.UUID,
    google_category_id: int,
    principal: Writer,
    session: DbSession,
    meta: Meta,
) -> CategoryAlignmentRead:
    return await alignment.accept_suggestion(
        session, principal, category_id, google_category_id, meta
    )


@router.post("/categories/{category_id}/align", response_model=CategoryAlignmentRead)
async def align_category(
    category_id: uuid.UUID, body: AlignBody, principal: Writer, session: DbSession, meta: Meta
) -> CategoryAlignmentRead:
    """Align by hand; `{"google_category_id": null}` removes the alignment."""
    return await alignment.align_category(
        session, principal, category_id, body.google_category_id, meta
    )

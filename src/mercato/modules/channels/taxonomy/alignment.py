"""Align the merchant's categories with Google's taxonomy, and say how much is aligned.

The Google category lives on the catalog's category (the catalog owns that row and its
`set_google_category`); this module owns the workflow around it: manual alignment,
suggestions ranked by text similarity (the category path plus the names of its products),
accepting one, the `category_alignment_audit` trail of every change, and the coverage
report (the share of live products whose category is aligned).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import Conflict, NotFound, ValidationFailed, field_error
from mercato.kernel.pagination import clamp_limit, encode_cursor, read_cursor
from mercato.kernel.security import TenantPrincipal
from mercato.modules.audit import record_audit
from mercato.modules.catalog import (
    CategoryAlignment,
    category_alignments,
    category_product_names,
    products_per_category,
    set_google_category,
)
from mercato.modules.channels.models import CategoryAlignmentAudit
from mercato.modules.channels.taxonomy.schemas import (
    AlignmentCoverage,
    AlignmentSuggestionRead,
    AlignmentSuggestions,
    CategoryAlignmentRead,
    CategoryCoverage,
)
from mercato.modules.channels.taxonomy.store import (
    LoadedTaxonomy,
    get_google_category,
    loaded_taxonomy,
)
from mercato.modules.channels.taxonomy.suggestions import suggest_categories

SUGGESTION_NAMES = 200
ACCEPTABLE_RANK = 10


class TaxonomyNotLoaded(Conflict):
    slug, title = "taxonomy-not-loaded", "Google's product taxonomy is not loaded"


async def _taxonomy(session: AsyncSession) -> LoadedTaxonomy:
    taxonomy = await loaded_taxonomy(session)
    if taxonomy is None:
        raise TaxonomyNotLoaded("An operator loads it with `mercato taxonomy load`")
    return taxonomy


async def align_category(
    session: AsyncSession,
    principal: TenantPrincipal,
    category_id: uuid.UUID,
    google_category_id: int | None,
    meta: RequestMeta | None,
    *,
    source: str = "manual",
    score: float | None = None,
) -> CategoryAlignmentRead:
    """Set (or with None, clear) a category's Google category; every change is recorded."""
    google = None
    if google_category_id is not None:
        google = await get_google_category(session, google_category_id)
        if google is None:
            await _taxonomy(session)
            message = f"{google_category_id} is not a category of Google's taxonomy"
            raise ValidationFailed(
                message, errors=[field_error("google_category_id", message, "unknown")]
            )
    change = await set_google_category(
        session, principal.tenant_id, category_id, google_category_id
    )
    if change.previous_google_category_id != google_category_id:
        session.add(
            CategoryAlignmentAudit(
                tenant_id=principal.tenant_id,
                category_id=category_id,
                category_path=change.path,
                previous_google_category_id=change.previous_google_category_id,
                google_category_id=google_category_id,
                source=source,
                score=score,
                actor=principal.actor,
            )
        )
        await record_audit(
            session,
            actor=principal,
            action="category.aligned",
            target=f"category:{category_id}",
            changes={
                "google_category_id": {
                    "from": change.previous_google_category_id,
                    "to": google_category_id,
                }
            },
            meta=meta,
        )
        await session.flush()
    return CategoryAlignmentRead(
        category_id=category_id,
        path=change.path,
        google_category_id=google_category_id,
        google_category_path=google.path if google else None,
    )


async def suggest_alignment(
    session: AsyncSession, tenant_id: uuid.UUID, category_id: uuid.UUID, limit: int
) -> AlignmentSuggestions:
    """Google categories for this category, best first (scores in (0, 1])."""
    taxonomy = await _taxonomy(session)
    current = await _category(session, tenant_id, category_id)
    names = await category_product_names(session, tenant_id, category_id, limit=SUGGESTION_NAMES)
    ranked = suggest_categories(current.path, names, taxonomy.index, limit=limit)
    return AlignmentSuggestions(
        category_id=category_id,
        category_path=current.path,
        google_category_id=current.google_category_id,
        data=[
            AlignmentSuggestionRead(
                google_category_id=s.category.id, path=s.category.path, score=s.score
            )
            for s in ranked
        ],
    )


async def accept_suggestion(
    session: AsyncSession,
    principal: TenantPrincipal,
    category_id: uuid.UUID,
    google_category_id: int,
    meta: RequestMeta,
) -> CategoryAlignmentRead:
    """Align to a suggested category; it must be among the top suggestions right now."""
    offered = await suggest_alignment(session, principal.tenant_id, category_id, ACCEPTABLE_RANK)
    chosen = next((s for s in offered.data if s.google_category_id == google_category_id), None)
    if chosen is None:
        message = (
            f"{google_category_id} is not among this category's top {ACCEPTABLE_RANK}"
            " suggestions; align it by hand instead"
        )
        raise ValidationFailed(
            message, errors=[field_error("google_category_id", message, "not_suggested")]
        )
    return await align_category(
        session,
        principal,
        category_id,
        google_category_id,
        meta,
        source="suggestion",
        score=chosen.score,
    )


async def _category(
    session: AsyncSession, tenant_id: uuid.UUID, category_id: uuid.UUID
) -> CategoryAlignment:
    rows = await category_alignments(session, tenant_id)
    found = next((row for row in rows if row.category_id == category_id), None)
    if found is None:
        raise NotFound("No such category")
    return found


async def alignment_coverage(session: AsyncSession, tenant_id: uuid.UUID) -> AlignmentCoverage:
    """Per category: its alignment and live products; overall: the aligned share."""
    counts = await products_per_category(session, tenant_id)
    rows = await category_alignments(session, tenant_id)
    data = [
        CategoryCoverage(
            category_id=row.category_id,
            path=row.path,
            google_category_id=row.google_category_id,
            products=counts.get(row.category_id, 0),
        )
        for row in rows
    ]
    products = sum(counts.values())  # includes products with no category (key None)
    aligned = sum(item.products for item in data if item.google_category_id is not None)
    return AlignmentCoverage(
        categories=len(data),
        aligned_categories=sum(item.google_category_id is not None for item in data),
        products=products,
        aligned_products=aligned,
        coverage=round(aligned / products, 4) if products else 0.0,
        data=data,
    )


async def alignment_history(
    session: AsyncSession,
    *,
    category_id: uuid.UUID | None,
    limit: int | None,
    cursor: str | None,
) -> tuple[list[CategoryAlignmentAudit], str | None]:
    """The alignment trail, newest first."""
    size = clamp_limit(limit)
    query = select(CategoryAlignmentAudit).order_by(CategoryAlignmentAudit.id.desc())
    if category_id is not None:
        query = query.where(CategoryAlignmentAudit.category_id == category_id)
    position = read_cursor(cursor, lambda c: uuid.UUID(c["id"]))
    if position is not None:
        query = query.where(CategoryAlignmentAudit.id < position)
    rows = list((await session.scalars(query.limit(size + 1))).all())
    next_cursor = encode_cursor({"id": str(rows[size - 1].id)}) if len(rows) > size else None
    return rows[:size], next_cursor

"""`{T}/feedback`: leave feedback (staff, or shoppers with a publishable key) and read it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from mercato.kernel.deps import DbSession
from mercato.kernel.pagination import Page
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.kernel.timestamps import Timestamp
from mercato.modules.feedback import service
from mercato.modules.feedback.schemas import FeedbackCreate, FeedbackRead, FeedbackSummary
from mercato.modules.identity import require

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/feedback", tags=["feedback"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=FeedbackRead)
async def create_feedback(
    body: FeedbackCreate,
    principal: Annotated[TenantPrincipal, require(Permission.FEEDBACK_WRITE)],
    session: DbSession,
) -> FeedbackRead:
    return FeedbackRead.model_validate(await service.create_feedback(session, principal, body))


@router.get("", response_model=Page[FeedbackRead])
async def list_feedback(
    principal: Annotated[TenantPrincipal, require(Permission.FEEDBACK_READ)],
    session: DbSession,
    category: str | None = None,
    rating: Annotated[int | None, Query(ge=1, le=5)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[FeedbackRead]:
    rows, next_cursor = await service.list_feedback(
        session, principal, category=category, rating=rating, limit=limit, cursor=cursor
    )
    return Page[FeedbackRead](
        data=[FeedbackRead.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.get("/summary", response_model=FeedbackSummary)
async def feedback_summary(
    principal: Annotated[TenantPrincipal, require(Permission.FEEDBACK_READ)],
    session: DbSession,
    start: Timestamp | None = None,
    end: Timestamp | None = None,
    category: str | None = None,
) -> FeedbackSummary:
    """Counts, average, distribution, weekly trend; by default the last twelve weeks."""
    return await service.summarise_feedback(
        session, principal, start=start, end=end, category=category
    )

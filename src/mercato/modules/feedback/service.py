"""Record feedback and summarise it: counts, average, distribution, weekly trend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Date, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import after_commit
from mercato.kernel.errors import ValidationFailed, field_error
from mercato.kernel.pagination import newest_first
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal, PrincipalKind, TenantPrincipal
from mercato.modules.feedback.models import Feedback
from mercato.modules.feedback.schemas import FeedbackCreate, FeedbackSummary, FeedbackWeek
from mercato.modules.feedback.telemetry import count_rating

DEFAULT_SUMMARY_DAYS = 84  # twelve weeks of trend
SATISFIED_FROM = 4


def _source(principal: Principal) -> str:
    """Staff in the dashboard, shoppers through a publishable key, or a server integration."""
    if principal.kind is PrincipalKind.user:
        return "staff"
    return "shopper" if principal.key_kind == "publishable" else "api"


async def create_feedback(
    session: AsyncSession, principal: TenantPrincipal, body: FeedbackCreate
) -> Feedback:
    """Store one piece of feedback; a contact address only with the person's consent."""
    principal.require(Permission.FEEDBACK_WRITE)
    feedback = Feedback(
        tenant_id=principal.tenant_id,
        rating=body.rating,
        category=body.category,
        comment=body.comment.strip() if body.comment else None,
        context=body.context,
        contact_consent=body.contact_consent,
        contact_email=str(body.contact_email).lower() if body.contact_email else None,
        source=_source(principal),
        author=principal.actor,
    )
    session.add(feedback)
    await session.flush()
    after_commit(session, lambda: count_rating(body.rating))
    return feedback


async def list_feedback(
    session: AsyncSession,
    principal: Principal,
    *,
    category: str | None,
    rating: int | None,
    limit: int | None,
    cursor: str | None,
) -> tuple[list[Feedback], str | None]:
    """Newest first; the session is already scoped to the tenant."""
    principal.require(Permission.FEEDBACK_READ)
    query = select(Feedback)
    if category:
        query = query.where(Feedback.category == category.strip().lower())
    if rating is not None:
        query = query.where(Feedback.rating == rating)
    return await newest_first(session, query, limit=limit, cursor=cursor)


def _utc(moment: datetime | None) -> datetime | None:
    """A time without an offset is read as UTC (API times are UTC)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    end = _utc(end) or datetime.now(UTC)
    start = _utc(start) or end - timedelta(days=DEFAULT_SUMMARY_DAYS)
    if start >= end:
        message = "start must be before end"
        raise ValidationFailed(message, errors=[field_error("start", message)])
    return start, end


def _rate(satisfied: int, total: int) -> float | None:
    return round(satisfied / total, 4) if total else None


async def summarise_feedback(
    session: AsyncSession,
    principal: Principal,
    *,
    start: datetime | None,
    end: datetime | None,
    category: str | None,
) -> FeedbackSummary:
    """Aggregates in SQL over `[start, end)`; weeks start on Monday (UTC)."""
    principal.require(Permission.FEEDBACK_READ)
    start, end = _window(start, end)
    conditions = [Feedback.created_at >= start, Feedback.created_at < end]
    if category:
        conditions.append(Feedback.category == category.strip().lower())
    satisfied = func.count().filter(Feedback.rating >= SATISFIED_FROM)

    totals = (
        await session.execute(
            select(func.count(), func.avg(Feedback.rating), satisfied).where(*conditions)
        )
    ).one()
    ratings = dict(
        (
            await session.execute(
                select(Feedback.rating, func.count()).where(*conditions).group_by(Feedback.rating)
            )
        ).all()
    )
    week = cast(func.date_trunc("week", func.timezone("UTC", Feedback.created_at)), Date)
    weeks = (
        await session.execute(
            select(week, func.count(), func.avg(Feedback.rating), satisfied)
            .where(*conditions)
            .group_by(week)
            .order_by(week)
        )
    ).all()
    categories = (
        await session.execute(
            select(Feedback.category, func.count())
            .where(*conditions)
            .group_by(Feedback.category)
            .order_by(func.count().desc(), Feedback.category)
        )
    ).all()
    count, average, satisfied_count = int(totals[0]), totals[1], int(totals[2])
    return FeedbackSummary(
        start=start,
        end=end,
        count=count,
        average=round(float(average), 3) if average is not None else None,
        distribution={str(r): int(ratings.get(r, 0)) for r in range(1, 6)},
        satisfaction_rate=_rate(satisfied_count, count),
        by_week=[
            FeedbackWeek(
                week_start=row[0],
                count=int(row[1]),
                average=round(float(row[2]), 3),
                satisfaction_rate=_rate(int(row[3]), int(row[1])) or 0.0,
            )
            for row in weeks
        ],
        by_category={name: int(n) for name, n in categories},
    )

"""`GET {T}/recommendations` (API.md, Personalization)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from mercato.kernel.deps import DbSession
from mercato.kernel.security import Principal
from mercato.modules.identity import require
from mercato.modules.recommendations.schemas import (
    PLACEMENT_PATTERN,
    RecommendationList,
    StrategyName,
)
from mercato.modules.recommendations.serving import RecommendationQuery, recommend

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["recommendations"])
MAX_LIST = 50
MAX_IDS = 50


def _ids(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    return tuple(part.strip() for part in raw.split(",") if part.strip())[:MAX_IDS]


@router.get(
    "/recommendations",
    response_model=RecommendationList,
    responses={200: {"description": "Recommended products, best first"}},
)
async def get_recommendations(
    principal: Annotated[Principal, require("recommendations:read")],
    session: DbSession,
    user_id: Annotated[str | None, Query(max_length=200)] = None,
    product_id: Annotated[str | None, Query(max_length=128)] = None,
    placement: Annotated[str | None, Query(pattern=PLACEMENT_PATTERN)] = None,
    strategy: StrategyName | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 10,
    exclude: Annotated[
        str | None,
        Query(max_length=8000, description="Product ids never to return, comma-separated"),
    ] = None,
    viewed: Annotated[
        str | None,
        Query(max_length=8000, description="This visit's earlier products, oldest first"),
    ] = None,
) -> Response:
    assert principal.tenant_id is not None
    query = RecommendationQuery(
        user_id=user_id or None,
        product_id=product_id or None,
        placement=placement,
        strategy=strategy,
        limit=limit,
        exclude=_ids(exclude),
        recently_viewed=_ids(viewed),
    )
    body = await recommend(session, principal.tenant_id, query)
    return Response(content=body, media_type="application/json")

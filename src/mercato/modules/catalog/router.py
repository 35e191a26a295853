"""HTTP layer of the catalog: products, batch upserts, CSV export, categories."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import StreamingResponse

from mercato.kernel.db import get_database
from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.audit import record_audit
from mercato.modules.catalog import categories, products
from mercato.modules.catalog.batch import upsert_batch
from mercato.modules.catalog.export import export_csv
from mercato.modules.catalog.schemas import (
    BatchRequest,
    BatchResult,
    CategoryCreate,
    CategoryList,
    CategoryRead,
    CategoryUpdate,
    ProductCreate,
    ProductList,
    ProductRead,
    ProductUpdate,
    Sort,
)
from mercato.modules.catalog.search import ProductQuery, list_products
from mercato.modules.identity import require

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["catalog"])

Reader = Annotated[TenantPrincipal, require(Permission.CATALOG_READ)]
Writer = Annotated[TenantPrincipal, require(Permission.CATALOG_WRITE)]


def _tenant(principal: TenantPrincipal) -> uuid.UUID:
    return principal.tenant_id


@router.get("/products", response_model=ProductList)
async def list_products_route(
    principal: Reader,
    session: DbSession,
    q: Annotated[str | None, Query(max_length=200)] = None,
    category: Annotated[str | None, Query(max_length=2_100)] = None,
    brand: Annotated[str | None, Query(max_length=200)] = None,
    min_price: Annotated[Decimal | None, Query(ge=0)] = None,
    max_price: Annotated[Decimal | None, Query(ge=0)] = None,
    available: bool | None = None,
    sort: Sort | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=1_000)] = None,
    facets: Annotated[bool, Query(description="Add category and brand counts")] = False,
) -> ProductList:
    """Filter, search (full text, typo-tolerant) and page through live products."""
    query = ProductQuery(
        q=q,
        category=category,
        brand=brand,
        min_price=min_price,
        max_price=max_price,
        available=available,
        sort=sort,
        limit=limit,
        cursor=cursor,
        facets=facets,
    )
    return await list_products(session, _tenant(principal), query)


@router.post("/products/batch", response_model=BatchResult)
async def batch_upsert_products(
    body: BatchRequest, principal: Writer, session: DbSession, meta: Meta
) -> BatchResult:
    """Upsert up to 10,000 products; invalid items are reported by index, good ones kept."""
    result = await upsert_batch(get_database(), _tenant(principal), body.products)
    await record_audit(
        session,
        tenant_id=_tenant(principal),
        actor=principal,
        action="product.batch_upserted",
        changes={
            "created": {"from": None, "to": result.created},
            "updated": {"from": None, "to": result.updated},
            "failed": {"from": None, "to": len(result.failed)},
        },
        meta=meta,
    )
    return result


@router.get("/products/export.csv", response_class=StreamingResponse)
async def export_products(principal: Reader) -> StreamingResponse:
    """Every live product as CSV, streamed."""
    return StreamingResponse(
        export_csv(get_database(), _tenant(principal)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="products.csv"'},
    )


@router.put("/products/{product_id}", response_model=ProductRead)
async def put_product(
    product_id: Annotated[str, products.PRODUCT_ID_PATH],
    body: ProductCreate,
    principal: Writer,
    session: DbSession,
    meta: Meta,
    response: Response,
) -> ProductRead:
    """Create (201) or replace (200) a product by the merchant's product_id."""
    product, created = await products.put_product(session, principal, product_id, body, meta)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return products.product_read(product)


@router.get("/products/{product_id}", response_model=ProductRead)
async def get_product(
    product_id: Annotated[str, products.PRODUCT_ID_PATH], principal: Reader, session: DbSession
) -> ProductRead:
    return products.product_read(
        await products.get_product(session, _tenant(principal), product_id)
    )


@router.patch("/products/{product_id}", response_model=ProductRead)
async def patch_product(
    product_id: Annotated[str, products.PRODUCT_ID_PATH],
    body: ProductUpdate,
    principal: Writer,
    session: DbSession,
    meta: Meta,
) -> ProductRead:
    """Change any subset of fields; null clears an optional one."""
    product = await products.patch_product(session, principal, product_id, body, meta)
    return products.product_read(product)


@router.delete("/products/{product_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_product(
    product_id: Annotated[str, products.PRODUCT_ID_PATH],
    principal: Writer,
    session: DbSession,
    meta: Meta,
) -> Response:
    """Soft-delete: reads answer 404 afterwards, a PUT brings the product back."""
    await products.delete_product(session, principal, product_id, meta)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/categories", response_model=CategoryList)
async def list_categories(
    principal: Reader,
    session: DbSession,
    parent_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=1_000)] = None,
) -> CategoryList:
    """The category tree in path order (each parent before its children)."""
    rows, next_cursor = await categories.list_categories(
        session, principal, parent_id=parent_id, limit=limit, cursor=cursor
    )
    return CategoryList(
        data=[CategoryRead.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.post("/categories", status_code=status.HTTP_201_CREATED, response_model=CategoryRead)
async def create_category(
    body: CategoryCreate, principal: Writer, session: DbSession, meta: Meta
) -> CategoryRead:
    category = await categories.create_category(session, principal, body, meta)
    return CategoryRead.model_validate(category)


@router.get("/categories/{category_id:uuid}", response_model=CategoryRead)
async def get_category(
    category_id: uuid.UUID, principal: Reader, session: DbSession
) -> CategoryRead:
    category = await categories.get_category(session, _tenant(principal), category_id)
    return CategoryRead.model_validate(category)


@router.patch("/categories/{category_id:uuid}", response_model=CategoryRead)
async def update_category(
    category_id: uuid.UUID,
    body: CategoryUpdate,
    principal: Writer,
    session: DbSession,
    meta: Meta,
) -> CategoryRead:
    """Rename, move or align with Google's taxonomy; descendants and products follow."""
    category = await categories.update_category(session, principal, category_id, body, meta)
    return CategoryRead.model_validate(category)


@router.delete("/categories/{category_id:uuid}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_category(
    category_id: uuid.UUID, principal: Writer, session: DbSession, meta: Meta
) -> Response:
    """Delete a category that has no subcategories and no live products (else 409)."""
    await categories.delete_category(session, principal, category_id, meta)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

"""Single-product service: read, create or replace, patch, soft-delete."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Path
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import func

from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import NotFound, ValidationFailed, field_error
from mercato.kernel.security import TenantPrincipal
from mercato.modules.audit import field_changes, record_audit
from mercato.modules.catalog.models import Product
from mercato.modules.catalog.notify import products_changed
from mercato.modules.catalog.schemas import (
    ProductCreate,
    ProductRead,
    ProductUpdate,
    validation_errors,
)
from mercato.modules.catalog.upsert import upsert_products

PRODUCT_ID_PATH = Path(min_length=1, max_length=128, description="The merchant's own id")
BODY_FIELDS = tuple(name for name in ProductCreate.model_fields if name != "product_id")


class ProductNotFound(NotFound):
    slug, title = "product-not-found", "No such product"


def product_read(product: Product) -> ProductRead:
    return ProductRead(
        product_id=product.product_id,
        name=product.name,
        description=product.description,
        price=product.price,
        currency=product.currency,
        sale_price=product.sale_price,
        current_price=product.sale_price if product.sale_price is not None else product.price,
        category=product.category_path,
        category_id=product.category_id,
        brand=product.brand,
        gtin=product.gtin,
        mpn=product.mpn,
        condition=product.condition,
        link=product.link,
        image_url=product.image_url,
        additional_image_urls=list(product.additional_image_urls or []),
        available=product.available,
        item_group_id=product.item_group_id,
        variant_attributes=dict(product.variant_attributes or {}),
        attributes=dict(product.attributes or {}),
        created_at=product.created_at,
        updated_at=product.updated_at,
    )


def _body(product: Product) -> dict[str, Any]:
    """The stored product as a body, in the shape PUT accepts (for PATCH and audits)."""
    read = product_read(product).model_dump(mode="json")
    read["category"] = product.category_path
    return {name: read[name] for name in BODY_FIELDS}


async def get_product(session: AsyncSession, tenant_id: uuid.UUID, product_id: str) -> Product:
    """The live product, freshly read; 404 when unknown or soft-deleted."""
    product = await session.scalar(
        select(Product)
        .where(
            Product.tenant_id == tenant_id,
            Product.product_id == product_id,
            Product.deleted_at.is_(None),
        )
        .execution_options(populate_existing=True)
    )
    if product is None:
        raise ProductNotFound(f"No product {product_id!r}")
    return product


async def _live_body(
    session: AsyncSession, tenant_id: uuid.UUID, product_id: str
) -> dict[str, Any] | None:
    try:
        return _body(await get_product(session, tenant_id, product_id))
    except ProductNotFound:
        return None


async def put_product(
    session: AsyncSession,
    principal: TenantPrincipal,
    product_id: str,
    body: ProductCreate,
    meta: RequestMeta,
) -> tuple[Product, bool]:
    """Create or replace the product; returns it and whether it was created."""
    if body.product_id is not None and body.product_id != product_id:
        raise ValidationFailed(
            "The body's product_id differs from the one in the path",
            errors=[field_error("product_id", "must match the path or be left out")],
        )
    try:
        item = ProductCreate.model_validate({**body.model_dump(), "product_id": product_id})
    except PydanticValidationError as exc:
        raise ValidationFailed("The product is not valid", errors=validation_errors(exc)) from exc
    return await _write(session, principal, item, meta)


async def _write(
    session: AsyncSession, principal: TenantPrincipal, item: ProductCreate, meta: RequestMeta
) -> tuple[Product, bool]:
    assert item.product_id is not None
    before = await _live_body(session, principal.tenant_id, item.product_id)
    outcome = await upsert_products(session, principal.tenant_id, [item])
    product = await get_product(session, principal.tenant_id, item.product_id)
    created = bool(outcome.created)
    await record_audit(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="product.created" if created else "product.updated",
        target=item.product_id,
        changes=field_changes(before or {}, _body(product)),
        meta=meta,
    )
    return product, created


async def patch_product(
    session: AsyncSession,
    principal: TenantPrincipal,
    product_id: str,
    patch: ProductUpdate,
    meta: RequestMeta,
) -> Product:
    """Change some fields; the merged product is validated as a whole (422 per field)."""
    current = _body(await get_product(session, principal.tenant_id, product_id))
    changes = patch.model_dump(include=patch.model_fields_set)
    merged = {**current, **changes, "product_id": product_id}
    for name in ("additional_image_urls", "variant_attributes", "attributes"):
        if merged[name] is None:
            merged[name] = {} if name != "additional_image_urls" else []
    try:
        item = ProductCreate.model_validate(merged)
    except PydanticValidationError as exc:
        raise ValidationFailed("The product is not valid", errors=validation_errors(exc)) from exc
    product, _ = await _write(session, principal, item, meta)
    return product


async def delete_product(
    session: AsyncSession, principal: TenantPrincipal, product_id: str, meta: RequestMeta
) -> None:
    """Soft-delete: the row stays (orders and feeds can still name it), reads answer 404."""
    deleted = await session.scalar(
        update(Product)
        .where(
            Product.tenant_id == principal.tenant_id,
            Product.product_id == product_id,
            Product.deleted_at.is_(None),
        )
        .values(deleted_at=func.now())
        .returning(Product.product_id)
        .execution_options(synchronize_session=False)
    )
    if deleted is None:
        raise ProductNotFound(f"No product {product_id!r}")
    await products_changed(session, principal.tenant_id, deleted=[product_id])
    await record_audit(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="product.deleted",
        target=product_id,
        meta=meta,
    )

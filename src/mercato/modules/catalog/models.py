"""Catalog tables: the category tree, products, the search lexicon and bulk-import progress.

A product is addressed by the merchant's own `product_id` within its tenant. Its category
path is copied onto the row (`category_path`) so the full-text vector can be a generated
column; category renames and moves rewrite that copy in the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR, UUID
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import (
    Base,
    created_at_column,
    tenant_id_column,
    updated_at_column,
    uuid_pk,
)

# Weighted so a match in the name outranks one in the brand, the category, the description.
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(brand, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(category_path, '')), 'C') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'D')"
)
LIVE = text("deleted_at IS NULL")
PRICE_KEY_SQL = "(coalesce(sale_price, price) * 10000)::bigint"
PRICE_KEY_SCALE = 10_000


class Category(Base):
    """One node of a tenant's category tree; `path` is "Root > Child > Leaf"."""

    __tablename__ = "category"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "parent_id"], ["category.tenant_id", "category.id"]),
        Index("ix_category_tenant_parent", "tenant_id", "parent_id"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    id: Mapped[uuid.UUID] = uuid_pk()
    parent_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    name: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    google_category_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


# Paths are unique per tenant regardless of case: "furniture > sofas" is "Furniture > Sofas".
Index("uq_category_tenant_path", Category.tenant_id, func.lower(Category.path), unique=True)


class Product(Base):
    """A sellable item. Soft-deleted rows keep their id so orders and feeds can explain them."""

    __tablename__ = "product"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "category_id"], ["category.tenant_id", "category.id"]),
        # The one index not led by tenant_id: with a btree_gin tenant_id column the planner
        # prices in the tenant's whole posting list and falls back to a sequential scan, so
        # the GIN covers the vector alone and the tenant is checked on the matching rows.
        Index("ix_product_search", "search_vector", postgresql_using="gin", postgresql_where=LIVE),
        Index("ix_product_price", "tenant_id", "price_key", "product_id", postgresql_where=LIVE),
        Index("ix_product_newest", "tenant_id", "created_at", "product_id", postgresql_where=LIVE),
        Index("ix_product_category", "tenant_id", "category_id"),
        Index("ix_product_brand", "tenant_id", "brand"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    product_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    price: Mapped[Decimal] = mapped_column(Numeric)
    currency: Mapped[str] = mapped_column(Text)
    sale_price: Mapped[Decimal | None] = mapped_column(Numeric)
    # What a shopper pays now, in 1/10,000ths (prices have at most 4 decimals). An integer
    # because under row-level security PostgreSQL only uses an index for leakproof
    # operators, and bigint comparisons are leakproof where numeric ones are not.
    price_key: Mapped[int] = mapped_column(BigInteger, Computed(PRICE_KEY_SQL, persisted=True))
    brand: Mapped[str | None] = mapped_column(Text)
    gtin: Mapped[str | None] = mapped_column(Text)
    mpn: Mapped[str | None] = mapped_column(Text)
    condition: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(Text)
    additional_image_urls: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    item_group_id: Mapped[str | None] = mapped_column(Text)
    variant_attributes: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    category_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    category_path: Mapped[str | None] = mapped_column(Text)
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR, Computed(SEARCH_VECTOR_SQL, persisted=True), deferred=True
    )
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CatalogTerm(Base):
    """The tenant's search vocabulary (words of names, brands, categories).

    Filled by a statement-level trigger on `product`; a query word missing from it is
    corrected to the nearest term by trigram distance (`chiar` → `chair`).
    """

    __tablename__ = "catalog_term"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        Index(
            "ix_catalog_term_trigram",
            "tenant_id",
            "term",
            postgresql_using="gist",
            postgresql_ops={"term": "gist_trgm_ops"},
        ),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    term: Mapped[str] = mapped_column(Text, primary_key=True)


class ProductImport(Base):
    """One run of `mercato import products`, identified by the file's digest and chunk size."""

    __tablename__ = "product_import"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        Index("ix_product_import_source", "tenant_id", "source_sha256", "chunk_size"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    id: Mapped[uuid.UUID] = uuid_pk()
    source_name: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(Text)
    chunk_size: Mapped[int] = mapped_column(Integer)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    """Rows of the file, counted when the import starts (null for runs before 0160)."""
    created_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ProductImportChunk(Base):
    """A chunk of an import that committed; written in the chunk's own transaction."""

    __tablename__ = "product_import_chunk"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "import_id"],
            ["product_import.tenant_id", "product_import.id"],
            ondelete="CASCADE",
        ),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    import_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    chunk_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    completed_at: Mapped[datetime] = created_at_column()

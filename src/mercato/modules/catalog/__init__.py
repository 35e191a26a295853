"""Catalog: products, categories, search, bulk import and export.

Public surface for other modules (import from here only):

- `get_products(session, tenant_id, product_ids) -> dict[str, ProductSnapshot]` — cached
  snapshots (name, price, sale price, currency, availability, image, category, brand) for
  pricing carts and rendering recommendations; deleted products are included, flagged.
- `iter_products(session, tenant_id)` — every live product as a `ProductRead`, streamed in
  keyset pages, for bulk consumers (recommendation fitting, feeds).
- `category_alignments(session, tenant_id)` — category paths with their Google category.
- for the Google channel's alignment workflow: `set_google_category(session, tenant_id,
  category_id, google_category_id)`, `products_per_category(session, tenant_id)` and
  `category_product_names(session, tenant_id, category_id, limit=)`.
- events `product.created|updated|deleted` with payload `{"product_ids": [...]}`.
- the view `catalog_products` for bulk SQL readers (tenant_id, product_id, name, brand,
  category_path, description, attributes, price, sale_price, currency, available,
  created_at, updated_at, deleted_at; deleted products included), under the caller's
  row-level security.
"""

from mercato.modules.catalog.cache import ProductSnapshot, get_products
from mercato.modules.catalog.google_alignment import (
    GoogleCategoryChange,
    category_product_names,
    products_per_category,
    set_google_category,
)
from mercato.modules.catalog.gtin import complete_gtin, is_valid_gtin
from mercato.modules.catalog.notify import PRODUCT_CREATED, PRODUCT_DELETED, PRODUCT_UPDATED
from mercato.modules.catalog.reading import CategoryAlignment, category_alignments, iter_products
from mercato.modules.catalog.schemas import ProductRead

__all__ = [
    "PRODUCT_CREATED",
    "PRODUCT_DELETED",
    "PRODUCT_UPDATED",
    "CategoryAlignment",
    "GoogleCategoryChange",
    "ProductRead",
    "ProductSnapshot",
    "category_alignments",
    "category_product_names",
    "complete_gtin",
    "get_products",
    "is_valid_gtin",
    "iter_products",
    "products_per_category",
    "set_google_category",
]

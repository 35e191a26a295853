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
- for the dashboard: `get_product`, `put_product`, `patch_product`, `product_read`,
  `ProductNotFound`, the search `list_products(session, tenant_id, ProductQuery(...))`, the
  file import (`queue_upload`, `import_progress`, `recent_imports`) and the shapes
  `ProductCreate`, `ProductUpdate`; for the `mercato` command, `import_file` and its
  `ImportReport`.
- for the demo seed, which writes as the system: `upsert_products`, `ensure_paths`,
  `align_google_categories`, `backdate_products`, `media_image_urls`.
- the view `catalog_products` for bulk SQL readers (tenant_id, product_id, name, brand,
  category_path, description, attributes, price, sale_price, currency, available,
  created_at, updated_at, deleted_at; deleted products included), under the caller's
  row-level security.
"""

from mercato.modules.catalog.cache import ProductSnapshot, get_products
from mercato.modules.catalog.categories import ensure_paths
from mercato.modules.catalog.google_alignment import (
    GoogleCategoryChange,
    category_product_names,
    products_per_category,
    set_google_category,
)
from mercato.modules.catalog.gtin import complete_gtin, is_valid_gtin
from mercato.modules.catalog.importer import (
    ImportReport,
    import_file,
    import_progress,
    queue_upload,
    recent_imports,
)
from mercato.modules.catalog.notify import PRODUCT_CREATED, PRODUCT_DELETED, PRODUCT_UPDATED
from mercato.modules.catalog.products import (
    ProductNotFound,
    get_product,
    patch_product,
    product_read,
    put_product,
)
from mercato.modules.catalog.reading import CategoryAlignment, category_alignments, iter_products
from mercato.modules.catalog.schemas import ProductCreate, ProductRead, ProductUpdate
from mercato.modules.catalog.search import ProductQuery, list_products
from mercato.modules.catalog.seeding import (
    align_google_categories,
    backdate_products,
    media_image_urls,
)
from mercato.modules.catalog.upsert import upsert_products

__all__ = [
    "PRODUCT_CREATED",
    "PRODUCT_DELETED",
    "PRODUCT_UPDATED",
    "CategoryAlignment",
    "GoogleCategoryChange",
    "ImportReport",
    "ProductCreate",
    "ProductNotFound",
    "ProductQuery",
    "ProductRead",
    "ProductSnapshot",
    "ProductUpdate",
    "align_google_categories",
    "backdate_products",
    "category_alignments",
    "category_product_names",
    "complete_gtin",
    "ensure_paths",
    "get_product",
    "get_products",
    "import_file",
    "import_progress",
    "is_valid_gtin",
    "iter_products",
    "list_products",
    "media_image_urls",
    "patch_product",
    "product_read",
    "products_per_category",
    "put_product",
    "queue_upload",
    "recent_imports",
    "set_google_category",
    "upsert_products",
]

"""Commerce → Catalog: products (search, filters, create and edit) and the category tree
with its Google alignment (coverage, suggestions, manual alignment)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote

from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from mercato.kernel.errors import DomainError, NotFound, ValidationFailed, field_error
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules import channels
from mercato.modules.audit import record_audit
from mercato.modules.catalog import (
    ProductCreate,
    ProductNotFound,
    ProductQuery,
    ProductRead,
    ProductUpdate,
    get_product,
    import_progress,
    list_products,
    patch_product,
    product_read,
    put_product,
    queue_upload,
    recent_imports,
)
from mercato.web.forms import FormState, form_status, parse, read_form
from mercato.web.pages import Page, screen_router, tenant_page
from mercato.web.registry import OverviewPanel, Screen, Section

router = screen_router()
PRODUCTS = "catalog/products"
NEW_PRODUCT = "catalog/new-product"
CATEGORIES = "catalog/categories"
PAGE_SIZE = 25

IMPORT = "catalog/import"

SCREENS = [
    Screen(
        "commerce.products", "Products", PRODUCTS, Permission.CATALOG_READ, Section.commerce, 10
    ),
    Screen(
        "commerce.categories",
        "Categories",
        CATEGORIES,
        Permission.CATALOG_READ,
        Section.commerce,
        12,
    ),
    Screen(
        "commerce.import", "Import products", IMPORT, Permission.CATALOG_WRITE, Section.commerce, 14
    ),
]

Reader = Annotated[Page, tenant_page(Permission.CATALOG_READ)]
Writer = Annotated[Page, tenant_page(Permission.CATALOG_WRITE)]

TEXT_FIELDS = (
    "name",
    "price",
    "sale_price",
    "currency",
    "category",
    "brand",
    "gtin",
    "mpn",
    "condition",
    "link",
    "image_url",
    "description",
)
CONDITIONS = [("", "Not stated"), ("new", "New"), ("refurbished", "Refurbished"), ("used", "Used")]
AVAILABILITY = [("", "Any"), ("true", "In stock"), ("false", "Out of stock")]
SORTS = [
    ("", "Best match / name"),
    ("price_asc", "Price, low to high"),
    ("price_desc", "Price, high to low"),
    ("newest", "Newest"),
]
FILTERS = ("q", "category", "brand", "available", "min_price", "max_price", "sort")


# Product list -----------------------------------------------------------------------------


def _price(raw: str, name: str) -> Decimal | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0:
        message = "a price of 0 or more, like 19.90"
        raise ValidationFailed(message, errors=[field_error(name, message)])
    return value


def _query(params: Mapping[str, str]) -> ProductQuery:
    """The filter form as the catalog search service's query (as `GET {T}/products` reads it)."""
    available = params.get("available", "")
    sort = params.get("sort", "")
    return ProductQuery(
        q=params.get("q", "").strip()[:200] or None,
        category=params.get("category", "").strip() or None,
        brand=params.get("brand", "").strip() or None,
        min_price=_price(params.get("min_price", ""), "min_price"),
        max_price=_price(params.get("max_price", ""), "max_price"),
        available=None if available not in ("true", "false") else available == "true",
        sort=sort if sort in {value for value, _ in SORTS if value} else None,  # type: ignore[arg-type]
        limit=PAGE_SIZE,
        cursor=params.get("cursor") or None,
        facets=True,
    )


@router.get("/" + PRODUCTS)
async def products_screen(page: Reader) -> HTMLResponse:
    params = {key: value for key, value in page.request.query_params.items()}
    form = FormState(values={name: params[name] for name in FILTERS if params.get(name)})
    found: list[ProductRead] = []
    next_cursor: str | None = None
    categories: list[tuple[str, str]] = []
    brands: list[tuple[str, str]] = []
    try:
        result = await list_products(page.session, page.tenant_id, _query(params))
        found, next_cursor = result.data, result.next_cursor
        if result.facets is not None:
            categories = [(f.value, f"{f.value} ({f.count})") for f in result.facets.category]
            brands = [(f.value, f"{f.value} ({f.count})") for f in result.facets.brand]
    except DomainError as error:
        form.show(error)
    selected_category = form.value("category")
    if selected_category and selected_category not in {value for value, _ in categories}:
        categories.insert(0, (selected_category, selected_category))
    selected_brand = form.value("brand")
    if selected_brand and selected_brand not in {value for value, _ in brands}:
        brands.insert(0, (selected_brand, selected_brand))
    return page.render(
        "screens/products.html",
        fragment="screens/_products.html",
        status_code=form_status(form),
        form=form,
        products=found,
        next_cursor=next_cursor,
        first_page=not params.get("cursor"),
        category_options=[("", "All categories"), *categories],
        brand_options=[("", "All brands"), *brands],
        availability=AVAILABILITY,
        sorts=SORTS,
    )


# Product form -----------------------------------------------------------------------------


def _product_values(product: ProductRead) -> dict[str, str]:
    values = {name: getattr(product, name) for name in TEXT_FIELDS}
    shown = {name: "" if value is None else str(value) for name, value in values.items()}
    return {
        **shown,
        "product_id": product.product_id,
        "available": "on" if product.available else "",
    }


def _create_body(submitted: Mapping[str, str]) -> dict[str, Any]:
    """The form as a `ProductCreate` body: empty optional fields are left out."""
    body: dict[str, Any] = {name: submitted.get(name, "").strip() for name in TEXT_FIELDS}
    body = {name: value for name, value in body.items() if value}
    body["product_id"] = submitted.get("product_id", "").strip()
    body["available"] = submitted.get("available") == "on"
    return body


def _update_body(submitted: Mapping[str, str]) -> dict[str, Any]:
    """The form as a `ProductUpdate`: every field it shows, an emptied one cleared (null)."""
    body: dict[str, Any] = {name: submitted.get(name, "").strip() or None for name in TEXT_FIELDS}
    body["available"] = submitted.get("available") == "on"
    return body


def _render_form(
    page: Page,
    form: FormState,
    *,
    product: ProductRead | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return page.render(
        "screens/product_form.html",
        fragment="screens/_product_form.html",
        status_code=status_code,
        form=form,
        product=product,
        conditions=CONDITIONS,
        notice=notice,
        back=page.url(PRODUCTS),
    )


@router.get("/" + NEW_PRODUCT)
async def new_product_form(page: Writer) -> HTMLResponse:
    return _render_form(page, FormState(values={"currency": "EUR", "available": "on"}))


@router.post("/" + NEW_PRODUCT)
async def create_product(page: Writer) -> HTMLResponse:
    """Create a product, as `PUT {T}/products/{product_id}` does for a new id."""
    submitted, form = await read_form(page.request)

    async def create() -> ProductRead:
        body = parse(ProductCreate, _create_body(submitted))
        product_id = body.product_id or ""
        if not product_id:
            message = "give the product your own id, e.g. its SKU"
            raise ValidationFailed(message, errors=[field_error("product_id", message)])
        try:
            await get_product(page.session, page.tenant_id, product_id)
        except ProductNotFound:
            pass
        else:
            message = "a product with this id exists; open it from the list to edit it"
            raise ValidationFailed(message, errors=[field_error("product_id", message)])
        product, _ = await put_product(page.session, page.member, product_id, body, page.meta)
        return product_read(product)

    created = await page.act(form, submitted, create)
    if created is None:
        return _render_form(page, form, status_code=form_status(form))
    form = FormState(values=_product_values(created))
    response = _render_form(page, form, product=created, notice=f"{created.name} is added.")
    # The address bar follows: a reload opens the new product, not an empty form.
    response.headers["HX-Push-Url"] = page.url(f"{PRODUCTS}/{quote(created.product_id, safe='')}")
    return response


@router.get("/" + PRODUCTS + "/{product_id}")
async def product_screen(product_id: str, page: Reader) -> HTMLResponse:
    product = product_read(await get_product(page.session, page.tenant_id, product_id))
    return _render_form(page, FormState(values=_product_values(product)), product=product)


@router.post("/" + PRODUCTS + "/{product_id}")
async def save_product(product_id: str, page: Writer) -> HTMLResponse:
    """Change the fields the form shows, as `PATCH {T}/products/{product_id}` does."""
    current = product_read(await get_product(page.session, page.tenant_id, product_id))
    submitted, form = await read_form(page.request)
    form.values["product_id"] = product_id

    async def save() -> ProductRead:
        body = parse(ProductUpdate, _update_body(submitted))
        product = await patch_product(page.session, page.member, product_id, body, page.meta)
        return product_read(product)

    saved = await page.act(form, submitted, save)
    if saved is None:
        return _render_form(page, form, product=current, status_code=form_status(form))
    form = FormState(values=_product_values(saved))
    return _render_form(page, form, product=saved, notice=f"{saved.name} is saved.")


# Categories and their Google alignment ----------------------------------------------------


@router.get("/" + CATEGORIES)
async def categories_screen(page: Reader) -> HTMLResponse:
    coverage = await channels.alignment_coverage(page.session, page.tenant_id)
    paths = await channels.google_category_paths(
        page.session, (c.google_category_id for c in coverage.data if c.google_category_id)
    )
    rows = [
        {
            "category": row,
            "depth": row.path.count(" > "),
            "name": row.path.rsplit(" > ", 1)[-1],
            "google_path": paths.get(row.google_category_id or -1),
        }
        for row in coverage.data
    ]
    return page.render("screens/categories.html", coverage=coverage, rows=rows)


async def _render_category(
    page: Page,
    category_id: uuid.UUID,
    *,
    form: FormState | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    form = form or FormState()
    search = page.request.query_params.get("q", "").strip()[:200]
    coverage = await channels.alignment_coverage(page.session, page.tenant_id)
    category = next((row for row in coverage.data if row.category_id == category_id), None)
    if category is None:
        raise NotFound("No such category")
    current = await channels.google_category_paths(
        page.session, [category.google_category_id] if category.google_category_id else []
    )
    suggestions: list[Any] = []
    try:
        suggestions = (
            await channels.suggest_alignment(page.session, page.tenant_id, category_id, 5)
        ).data
    except DomainError as error:
        form.show(error)
    matches = await channels.search_taxonomy(page.session, search, 20) if search else []
    return page.render(
        "screens/category.html",
        fragment="screens/_category.html",
        status_code=status_code,
        category=category,
        google_path=current.get(category.google_category_id or -1),
        suggestions=suggestions,
        search=search,
        matches=matches,
        form=form,
        notice=notice,
        back=page.url(CATEGORIES),
    )


@router.get("/" + CATEGORIES + "/{category_id}")
async def category_screen(category_id: uuid.UUID, page: Reader) -> HTMLResponse:
    return await _render_category(page, category_id)


@router.post("/" + CATEGORIES + "/{category_id}/align")
async def align_category(category_id: uuid.UUID, page: Writer) -> HTMLResponse:
    """Accept a suggestion, align by hand, or remove the alignment (an empty id)."""
    submitted, form = await read_form(page.request)
    raw = submitted.get("google_category_id", "").strip()

    async def align() -> str:
        if raw and not raw.isdigit():
            message = "a Google category id, a whole number"
            raise ValidationFailed(message, errors=[field_error("google_category_id", message)])
        chosen = int(raw) if raw else None
        if chosen is not None and submitted.get("suggested") == "1":
            done = await channels.accept_suggestion(
                page.session, page.member, category_id, chosen, page.meta
            )
        else:
            done = await channels.align_category(
                page.session, page.member, category_id, chosen, page.meta
            )
        if done.google_category_path is None:
            return f"{done.path} is no longer aligned."
        return f"{done.path} is aligned with {done.google_category_path}."

    notice = await page.act(form, submitted, align)
    if notice is None:
        return await _render_category(page, category_id, form=form, status_code=form_status(form))
    return await _render_category(page, category_id, notice=notice)


# Bulk import ------------------------------------------------------------------------------


async def _render_import(
    page: Page, *, form: FormState | None = None, status_code: int = 200
) -> HTMLResponse:
    return page.render(
        "screens/product_import.html",
        fragment="screens/_product_import.html",
        status_code=status_code,
        form=form or FormState(),
        imports=await recent_imports(page.session, page.tenant_id),
    )


@router.get("/" + IMPORT)
async def import_screen(page: Writer) -> HTMLResponse:
    return await _render_import(page)


@router.post("/" + IMPORT)
async def upload_import(page: Writer) -> HTMLResponse:
    """Keep the file and queue its import; the page then follows the job's progress."""
    submitted, form = await read_form(page.request)
    upload = (await page.request.form()).get("file")

    async def queue() -> uuid.UUID:
        if not isinstance(upload, UploadFile) or not upload.filename:
            message = "choose a CSV or JSON-lines file"
            raise ValidationFailed(message, errors=[field_error("file", message)])
        run = await queue_upload(page.session, page.tenant_id, upload.filename, upload.file)
        await record_audit(
            page.session,
            actor=page.member,
            action="product.import_queued",
            target=f"product_import:{run.id}",
            changes={"file": {"from": None, "to": run.source_name}},
            meta=page.meta,
        )
        return run.id

    queued = await page.act(form, submitted, queue)
    if queued is None:
        return await _render_import(page, form=form, status_code=form_status(form))
    return await _render_import(page)


@router.get("/catalog/imports/{import_id}")
async def import_row(import_id: uuid.UUID, page: Writer) -> HTMLResponse:
    """One import's row, polled by htmx every second until it is finished."""
    progress = await import_progress(page.session, page.tenant_id, import_id)
    return page.render("screens/_import_row.html", run=progress)


# Overview card ----------------------------------------------------------------------------


async def _catalog_summary(session: AsyncSession, principal: TenantPrincipal) -> Mapping[str, Any]:
    coverage = await channels.alignment_coverage(session, principal.tenant_id)
    return {
        "products": coverage.products,
        "categories": coverage.categories,
        "coverage": coverage.coverage,
        "url": f"/app/t/{principal.tenant_id}/{PRODUCTS}",
        "categories_url": f"/app/t/{principal.tenant_id}/{CATEGORIES}",
    }


PANELS = [
    OverviewPanel(
        "catalog",
        "Catalog",
        Permission.CATALOG_READ,
        "panels/catalog.html",
        _catalog_summary,
        order=30,
    )
]

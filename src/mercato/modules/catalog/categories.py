"""The tenant's category tree: create on demand from paths, rename, move, delete.

Invariant: every category's `path` is its ancestors' names joined by " > ", and every
product's `category_path` equals its category's `path`. Renames and moves rewrite both for
the whole subtree in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, literal, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import Conflict, NotFound, ValidationFailed, field_error
from mercato.kernel.pagination import clamp_limit, encode_cursor, read_cursor
from mercato.kernel.security import Principal, TenantPrincipal
from mercato.modules.audit import field_changes, record_audit
from mercato.modules.catalog.models import Category
from mercato.modules.catalog.notify import products_changed
from mercato.modules.catalog.schemas import CategoryCreate, CategoryUpdate, category_names


class CategoryExists(Conflict):
    slug, title = "category-exists", "A category with this path already exists"


class CategoryInUse(Conflict):
    slug, title = "category-in-use", "The category still has subcategories or products"


@dataclass(frozen=True)
class CategoryRef:
    id: uuid.UUID
    path: str


def like_prefix(path: str) -> str:
    """A LIKE pattern matching the descendants of `path` (lower-cased, wildcards escaped)."""
    escaped = path.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + " > %"


async def ensure_paths(
    session: AsyncSession, tenant_id: uuid.UUID, paths: Iterable[str]
) -> dict[str, CategoryRef]:
    """The categories of `paths` by lower-cased path, creating missing levels.

    Safe under concurrency: inserts skip paths another transaction just created, then
    everything is read back.
    """
    wanted: dict[str, list[str]] = {}
    for path in paths:
        names = category_names(path)
        for depth in range(1, len(names) + 1):
            prefix = " > ".join(names[:depth])
            wanted.setdefault(prefix.lower(), names[:depth])
    if not wanted:
        return {}
    found = await _by_lower_path(session, tenant_id, list(wanted))
    for key in sorted(set(wanted) - set(found), key=lambda k: len(wanted[k])):
        names = wanted[key]
        parent = found[" > ".join(names[:-1]).lower()] if len(names) > 1 else None
        await session.execute(
            text(
                "INSERT INTO category (tenant_id, id, parent_id, name, path, depth) "
                "VALUES (:tenant_id, :id, :parent_id, :name, :path, :depth) "
                "ON CONFLICT (tenant_id, lower(path)) DO NOTHING"
            ),
            {
                "tenant_id": tenant_id,
                "id": uuid.uuid4(),
                "parent_id": parent.id if parent else None,
                "name": names[-1],
                "path": " > ".join(names),
                "depth": len(names) - 1,
            },
        )
        found.update(await _by_lower_path(session, tenant_id, [key]))
    return found


async def _by_lower_path(
    session: AsyncSession, tenant_id: uuid.UUID, keys: list[str]
) -> dict[str, CategoryRef]:
    rows = await session.execute(
        select(Category.id, Category.path).where(
            Category.tenant_id == tenant_id, func.lower(Category.path).in_(keys)
        )
    )
    return {path.lower(): CategoryRef(id_, path) for id_, path in rows}


def _filter_names(category: str) -> list[str]:
    try:
        return category_names(category)
    except ValueError as exc:
        raise ValidationFailed(
            "The category filter is not a category path", errors=[field_error("category", str(exc))]
        ) from None


async def subtree_ids(
    session: AsyncSession, tenant_id: uuid.UUID, category: str
) -> list[uuid.UUID]:
    """Ids of a category (given by id or by path) and all its descendants; [] if unknown.

    A path no category could have (a blank level, too deep, a name too long) is a 422.
    """
    try:
        root = await session.get(Category, (tenant_id, uuid.UUID(category)))
        path = root.path if root else None
    except ValueError:
        path = " > ".join(_filter_names(category)) if category.strip() else None
    if path is None:
        return []
    rows = await session.scalars(
        select(Category.id).where(
            Category.tenant_id == tenant_id,
            (func.lower(Category.path) == path.lower())
            | func.lower(Category.path).like(like_prefix(path), escape="\\"),
        )
    )
    return list(rows)


async def get_category(
    session: AsyncSession, tenant_id: uuid.UUID, category_id: uuid.UUID
) -> Category:
    category = await session.get(Category, (tenant_id, category_id))
    if category is None:
        raise NotFound("No such category")
    return category


async def list_categories(
    session: AsyncSession,
    principal: Principal,
    *,
    parent_id: uuid.UUID | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> tuple[list[Category], str | None]:
    """The tree in path order (parents before their children), cursor-paginated."""
    size = clamp_limit(limit)
    query = select(Category).order_by(func.lower(Category.path), Category.id)
    if parent_id is not None:
        query = query.where(Category.parent_id == parent_id)
    position = read_cursor(cursor, lambda c: (str(c["p"]), uuid.UUID(c["id"])))
    if position is not None:
        query = query.where(
            tuple_(func.lower(Category.path), Category.id)
            > tuple_(literal(position[0]), literal(position[1]))
        )
    rows = list((await session.scalars(query.limit(size + 1))).all())
    next_cursor = None
    if len(rows) > size:
        last = rows[size - 1]
        next_cursor = encode_cursor({"p": last.path.lower(), "id": str(last.id)})
        rows = rows[:size]
    return rows, next_cursor


async def create_category(
    session: AsyncSession, principal: TenantPrincipal, body: CategoryCreate, meta: RequestMeta
) -> Category:
    """Add a category under `parent_id` (or at the root); 409 if the path exists."""
    parent = await _parent(session, principal.tenant_id, body.parent_id)
    path = f"{parent.path} > {body.name}" if parent else body.name
    if await _by_lower_path(session, principal.tenant_id, [path.lower()]):
        raise CategoryExists(f"{path!r} already exists")
    category = Category(
        tenant_id=principal.tenant_id,
        id=uuid.uuid4(),
        parent_id=parent.id if parent else None,
        name=body.name,
        path=path,
        depth=parent.depth + 1 if parent else 0,
        google_category_id=body.google_category_id,
    )
    session.add(category)
    await session.flush()
    await record_audit(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="category.created",
        target=str(category.id),
        changes={"path": {"from": None, "to": path}},
        meta=meta,
    )
    return category


async def _parent(
    session: AsyncSession, tenant_id: uuid.UUID, parent_id: uuid.UUID | None
) -> Category | None:
    if parent_id is None:
        return None
    parent = await session.get(Category, (tenant_id, parent_id))
    if parent is None:
        raise ValidationFailed(
            "The parent category does not exist",
            errors=[field_error("parent_id", "no such category", "not_found")],
        )
    return parent


async def update_category(
    session: AsyncSession,
    principal: TenantPrincipal,
    category_id: uuid.UUID,
    body: CategoryUpdate,
    meta: RequestMeta,
) -> Category:
    """Rename and/or move a category; the subtree's paths and its products follow."""
    tenant_id = principal.tenant_id
    category = await get_category(session, tenant_id, category_id)
    before = {
        "name": category.name,
        "parent_id": str(category.parent_id) if category.parent_id else None,
        "google_category_id": category.google_category_id,
    }
    fields = body.model_fields_set
    if "google_category_id" in fields:
        category.google_category_id = body.google_category_id
    name = body.name if "name" in fields and body.name is not None else category.name
    parent_id = body.parent_id if "parent_id" in fields else category.parent_id
    parent = await _parent(session, tenant_id, parent_id)
    if parent is not None and (
        parent.id == category.id or parent.path.lower().startswith(category.path.lower() + " > ")
    ):
        raise ValidationFailed(
            "A category cannot move under itself",
            errors=[field_error("parent_id", "is this category or one of its descendants")],
        )
    new_path = f"{parent.path} > {name}" if parent else name
    if new_path != category.path:
        if new_path.lower() != category.path.lower() and await _by_lower_path(
            session, tenant_id, [new_path.lower()]
        ):
            raise CategoryExists(f"{new_path!r} already exists")
        await _rewrite_subtree(
            session,
            tenant_id,
            category,
            new_path=new_path,
            depth_delta=(parent.depth + 1 if parent else 0) - category.depth,
        )
    category.name, category.parent_id = name, parent.id if parent else None
    await session.flush()
    await session.refresh(category)
    after = {
        "name": category.name,
        "parent_id": str(category.parent_id) if category.parent_id else None,
        "google_category_id": category.google_category_id,
    }
    await record_audit(
        session,
        tenant_id=tenant_id,
        actor=principal,
        action="category.updated",
        target=str(category.id),
        changes=field_changes(before, after),
        meta=meta,
    )
    return category


async def _rewrite_subtree(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    category: Category,
    *,
    new_path: str,
    depth_delta: int,
) -> None:
    old_path = category.path
    moved = await session.scalars(
        text(
            "UPDATE category SET path = :new_path || substr(path, length(:old_path) + 1), "
            "depth = depth + :depth_delta, updated_at = now() "
            "WHERE tenant_id = :tenant_id "
            "AND (id = :id OR lower(path) LIKE :descendants ESCAPE '\\') RETURNING id"
        ),
        {
            "new_path": new_path,
            "old_path": old_path,
            "depth_delta": depth_delta,
            "tenant_id": tenant_id,
            "id": category.id,
            "descendants": like_prefix(old_path),
        },
    )
    affected = list(moved)
    products = await session.scalars(
        text(
            "UPDATE product p SET category_path = c.path, updated_at = now() "
            "FROM category c WHERE p.tenant_id = :tenant_id AND c.tenant_id = :tenant_id "
            "AND p.category_id = c.id AND c.id = ANY(:ids) RETURNING p.product_id"
        ),
        {"tenant_id": tenant_id, "ids": affected},
    )
    await products_changed(session, tenant_id, updated=list(products))


async def delete_category(
    session: AsyncSession, principal: TenantPrincipal, category_id: uuid.UUID, meta: RequestMeta
) -> None:
    """Remove a category without subcategories or live products (409 otherwise).

    Deleted products that were in it keep their `category_path` text but lose the link.
    """
    category = await get_category(session, principal.tenant_id, category_id)
    in_use = await session.scalar(
        text(
            "SELECT EXISTS (SELECT 1 FROM category WHERE tenant_id = :t AND parent_id = :id) "
            "OR EXISTS (SELECT 1 FROM product WHERE tenant_id = :t AND category_id = :id "
            "AND deleted_at IS NULL)"
        ),
        {"t": principal.tenant_id, "id": category_id},
    )
    if in_use:
        raise CategoryInUse("Move or delete its subcategories and products first")
    await session.execute(
        text("UPDATE product SET category_id = NULL WHERE tenant_id = :t AND category_id = :id"),
        {"t": principal.tenant_id, "id": category_id},
    )
    await session.delete(category)
    await session.flush()
    await record_audit(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="category.deleted",
        target=str(category_id),
        changes={"path": {"from": category.path, "to": None}},
        meta=meta,
    )

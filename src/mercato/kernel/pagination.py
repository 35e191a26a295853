"""Cursor pagination: `?limit=&cursor=` in, `{"data": [...], "next_cursor": ...}` out.

A cursor is the sort key of the last row served, as URL-safe base64 JSON. It is opaque to
clients; a tampered or foreign cursor is a 400, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, literal, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.errors import DomainError

T = TypeVar("T")
P = TypeVar("P")
Row = TypeVar("Row")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class InvalidCursor(DomainError):
    status, slug, title = 400, "invalid-cursor", "The cursor is not valid"


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = None


def encode_cursor(key: dict[str, Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("The cursor could not be decoded") from exc
    if not isinstance(value, dict):
        raise InvalidCursor("The cursor could not be decoded")
    return value


def read_cursor(cursor: str | None, parse: Callable[[dict[str, Any]], P]) -> P | None:
    """Decode a cursor and parse its position; any malformed content is a 400."""
    value = decode_cursor(cursor)
    if value is None:
        return None
    try:
        return parse(value)
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidCursor("The cursor does not describe a position in this list") from exc


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    return max(1, min(limit, MAX_LIMIT))


def _newest_first_position(cursor: dict[str, Any]) -> tuple[datetime, uuid.UUID]:
    return datetime.fromisoformat(str(cursor["t"])), uuid.UUID(str(cursor["id"]))


async def newest_first(
    session: AsyncSession, query: Select[Row], *, limit: int | None, cursor: str | None
) -> tuple[list[Row], str | None]:
    """One page of `query`'s rows, newest first by (`created_at`, `id`), and the next cursor.

    `query` selects one mapped entity that has `created_at` and `id` columns, with its
    filters; this adds the order, the position after the cursor and the limit. The cursor
    holds the last row's `t` and `id`.
    """
    entity = query.column_descriptions[0]["entity"]
    created_at, id_ = entity.created_at, entity.id
    size = clamp_limit(limit)
    query = query.order_by(created_at.desc(), id_.desc())
    position = read_cursor(cursor, _newest_first_position)
    if position is not None:
        after = tuple_(literal(position[0]), literal(position[1]))
        query = query.where(tuple_(created_at, id_) < after)
    rows = list((await session.scalars(query.limit(size + 1))).all())
    if len(rows) <= size:
        return rows, None
    last: Any = rows[size - 1]
    return rows[:size], encode_cursor({"t": last.created_at.isoformat(), "id": str(last.id)})

"""Turn raw event bodies into rows ready to store, or into per-field errors.

Field types come from `EventIn`; the rules that depend on the event type and on the
clock live here. Each event also gets its dedup key: 16 bytes of BLAKE2b over the
client's `event_id` when it sent one, else over (user, type, product, timestamp) — the
tenant is the other half of the key, as a column.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, NamedTuple, NotRequired, Required

from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from pydantic_core import to_json
from typing_extensions import TypedDict

from mercato.kernel.errors import ValidationFailed
from mercato.modules.tracking.schemas import MAX_BATCH, EventBatchIn, EventIn

MAX_FUTURE = timedelta(hours=72)
MAX_PAST = timedelta(days=400)
MAX_PROPERTIES_BYTES = 16_384

# Fields an event of the type cannot do without.
REQUIRED_BY_TYPE: dict[str, tuple[str, ...]] = {
    "view_item": ("product_id",),
    "add_to_cart": ("product_id",),
    "remove_from_cart": ("product_id",),
    "impression": ("product_id",),
    "click": ("product_id",),
    "purchase": ("revenue", "currency"),
    "search": ("query",),
}
_event_adapter: TypeAdapter[EventIn] = TypeAdapter(EventIn)
_batch_adapter: TypeAdapter[list[EventIn]] = TypeAdapter(list[EventIn])


class EventRow(NamedTuple):
    """An accepted event in the column order of the `event` table."""

    occurred_at: datetime
    key: bytes
    type: str
    user_id: str
    session_id: str | None
    product_id: str | None
    quantity: int | None
    price: Decimal | None
    revenue: Decimal | None
    currency: str | None
    query: str | None
    results_count: int | None
    placement: str | None
    strategy: str | None
    experiment_id: str | None
    variant: str | None
    location_code: str | None
    event_id: str | None
    properties: str | None  # JSON text
    order_id: str | None  # properties.order_id, for counting orders


@dataclass(frozen=True)
class ClockWindow:
    """Which timestamps are plausible: `oldest` ≤ t ≤ `newest`."""

    now: datetime
    oldest: datetime
    newest: datetime

    @classmethod
    def around(cls, now: datetime, *, max_past: timedelta = MAX_PAST) -> ClockWindow:
        return cls(now=now, oldest=now - max_past, newest=now + MAX_FUTURE)


def dedup_key(
    event_id: str | None,
    user_id: str,
    type: str,
    product_id: str | None,
    occurred_at: datetime,
) -> bytes:
    """The event's identity within its tenant (see the module docstring)."""
    if event_id is not None:
        material = "e\x00" + event_id
    else:
        micros = int(occurred_at.timestamp() * 1_000_000)
        material = "\x00".join(("h", user_id, type, product_id or "", str(micros)))
    return hashlib.blake2b(material.encode(), digest_size=16).digest()


TEXT_FIELDS = (
    "user_id",
    "session_id",
    "product_id",
    "currency",
    "query",
    "placement",
    "strategy",
    "experiment_id",
    "variant",
    "location_code",
    "event_id",
)


def _error(field: str, message: str, code: str) -> dict[str, str]:
    return {"field": field, "message": message, "code": code}


def _type_errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        _error(".".join(str(p) for p in err["loc"]) or "event", err["msg"], err["type"])
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


def _rule_errors(
    event: EventIn, occurred_at: datetime, window: ClockWindow
) -> list[dict[str, str]]:
    errors = [
        _error(name, f"a {event.type} event needs `{name}`", "missing")
        for name in REQUIRED_BY_TYPE.get(event.type, ())
        if getattr(event, name) in (None, "")
    ]
    if occurred_at > window.newest:
        errors.append(
            _error("timestamp", "timestamp is more than 72 hours in the future", "clock_skew")
        )
    elif occurred_at < window.oldest:
        days = (window.now - window.oldest).days
        errors.append(_error("timestamp", f"timestamp is more than {days} days old", "too_old"))
    return errors


_raw_batch: TypeAdapter[EventBatchIn] = TypeAdapter(EventBatchIn)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around synchronous, allocation-heavy batch work.

    Typing and checking 1,000 events allocates tens of thousands of objects, none of them
    in reference cycles (reference counting frees them either way). With the collector
    on, every 700 allocations start a pass, and the batch's objects, alive during those
    passes, get promoted and then rescanned by full collections of the whole server heap:
    a third of a batch's CPU time. Paused, at most one pass runs when it resumes. Nothing
    can await inside, so no other request runs while the collector is off.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def may_hold_nul(body: bytes) -> bool:
    """Whether a JSON body can decode to text with a NUL in it.

    JSON cannot carry a raw NUL inside a string (the parser refuses control characters),
    only the escape `\\u0000`; a body without that escape spares checking every field.
    """
    return b"\\u0000" in body


def _fields_of(model: type[BaseModel], name: str) -> Any:
    """`model`'s fields, with their rules, as a TypedDict of the same validation."""
    fields = {}
    for field, info in model.model_fields.items():
        kind = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        fields[field] = Required[kind] if info.is_required() else NotRequired[kind]
    return TypedDict(name, fields)  # type: ignore[operator]


EventFields = _fields_of(EventIn, "EventFields")
"""`EventIn` as plain dicts: a batch typed into dicts costs a third less than into models."""
_plain_batch: TypeAdapter[dict[str, Any]] = TypeAdapter(
    TypedDict(  # type: ignore[operator]
        "EventBatchFields",
        {"events": Annotated[list[EventFields], Field(max_length=MAX_BATCH)]},  # type: ignore[valid-type]
    )
)


def parse_typed_batch(body: bytes) -> list[dict[str, Any]] | None:
    """Every event of a `{"events": [...]}` body typed (as `EventIn` types it) in one pass
    straight from the JSON bytes, as dicts for `plain_row`; None when the body or any
    event is malformed (then `parse_batch_body` and `check_batch` take over)."""
    try:
        events: list[dict[str, Any]] = _plain_batch.validate_json(body)["events"]
    except ValidationError:
        return None
    return events


def parse_batch_body(body: bytes) -> list[Any]:
    """The raw events of a `{"events": [...]}` body, for `check_batch` to check and report
    one by one. A body that is not such an object is a 422."""
    try:
        return list(_raw_batch.validate_json(body).events)
    except ValidationError as exc:
        raise ValidationFailed(
            'The body must be {"events": [...]} with up to 1000 events', errors=_type_errors(exc)
        ) from None


def parse_events(raw: Sequence[Any]) -> list[EventIn] | None:
    """All events typed in one pass, or None when any is malformed (then check one by one)."""
    try:
        return _batch_adapter.validate_python(raw)
    except ValidationError:
        return None


def _occurred_at(stamp: datetime | None, window: ClockWindow) -> datetime:
    """The event's time in UTC. A timestamp at the edge of the calendar whose UTC time
    falls outside it (`0001-01-01T00:00:00+01:00`) becomes that edge, so the window
    refuses it like any other implausible time instead of the conversion failing."""
    if not stamp:
        return window.now
    try:
        return stamp.astimezone(UTC)
    except OverflowError:
        edge = datetime.min if stamp.year == datetime.min.year else datetime.max
        return edge.replace(tzinfo=UTC)


def plain_row(fields: Mapping[str, Any], window: ClockWindow) -> EventRow | None:
    """The row of a well-typed event (`EventIn` fields, missing ones None), or None when
    a rule refuses it (then `check_event` says why). The caller has checked for NULs."""
    get = fields.get
    occurred_at = _occurred_at(get("timestamp"), window)
    if not window.oldest <= occurred_at <= window.newest:
        return None
    kind = fields["type"]
    for name in REQUIRED_BY_TYPE.get(kind, ()):
        if get(name) in (None, ""):
            return None
    properties = order_id = None
    raw_properties = get("properties")
    if raw_properties:
        properties = to_json(raw_properties, fallback=str).decode()
        if len(properties) > MAX_PROPERTIES_BYTES or "\\u0000" in properties:
            return None
        found = raw_properties.get("order_id")
        order_id = str(found) if found is not None else None
    user_id, product_id, event_id = fields["user_id"], get("product_id"), get("event_id")
    return EventRow(
        occurred_at,
        dedup_key(event_id, user_id, kind, product_id, occurred_at),
        kind,
        user_id,
        get("session_id"),
        product_id,
        get("quantity"),
        get("price"),
        get("revenue"),
        get("currency"),
        get("query"),
        get("results_count"),
        get("placement"),
        get("strategy"),
        get("experiment_id"),
        get("variant"),
        get("location_code"),
        event_id,
        properties,
        order_id,
    )


def _has_nul(fields: Mapping[str, Any]) -> bool:
    return any("\x00" in (fields[name] or "") for name in TEXT_FIELDS)


def check_event(
    raw: Any, window: ClockWindow, *, nul_free: bool = False
) -> tuple[EventRow, None] | tuple[None, list[dict[str, str]]]:
    """An accepted row, or the reasons the event is rejected.

    `nul_free` says the caller knows no text can hold a NUL (see `may_hold_nul`).
    """
    if isinstance(raw, EventIn):
        event = raw
    elif not isinstance(raw, Mapping):
        return None, [_error("event", "an event is a JSON object", "type_error")]
    else:
        try:
            event = _event_adapter.validate_python(raw)
        except ValidationError as exc:
            return None, _type_errors(exc)
    fields = event.__dict__
    if nul_free or not _has_nul(fields):
        row = plain_row(fields, window)
        if row is not None:
            return row, None
    return None, _event_errors(event, window)


def _event_errors(event: EventIn, window: ClockWindow) -> list[dict[str, str]]:
    """Why `plain_row` refused a typed event, or why it holds a NUL."""
    occurred_at = _occurred_at(event.timestamp, window)
    errors = _rule_errors(event, occurred_at, window)
    errors.extend(
        _error(name, "text cannot contain NUL characters", "nul_character")
        for name in TEXT_FIELDS
        if "\x00" in (getattr(event, name) or "")
    )
    if event.properties:
        properties = to_json(event.properties, fallback=str).decode()
        if len(properties) > MAX_PROPERTIES_BYTES:
            errors.append(_error("properties", "properties exceed 16 KB", "too_large"))
        if "\\u0000" in properties:
            # jsonb refuses NUL in strings; a literal backslash before "u0000" is refused too.
            errors.append(
                _error("properties", "text cannot contain NUL characters", "nul_character")
            )
    return errors

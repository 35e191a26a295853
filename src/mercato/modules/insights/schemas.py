"""Task list shapes: each item carries the user, contact, products, amount, location, rep,
reason and status (API.md, Intelligence)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TaskList(StrEnum):
    purchase_followups = "purchase-followups"
    cart_abandonment = "cart-abandonment"
    search_gaps = "search-gaps"
    repeat_visitors = "repeat-visitors"


class TaskState(StrEnum):
    open = "open"
    done = "done"
    snoozed = "snoozed"


class StatusFilter(StrEnum):
    open = "open"
    done = "done"
    snoozed = "snoozed"
    all = "all"


class AssignedRep(BaseModel):
    rep_id: str
    name: str
    email: str | None = None


class TaskItem(BaseModel):
    key: str
    task_list: TaskList
    user_id: str | None
    contact: str | None = None
    products: list[str]
    amount: Decimal | None
    location_code: str
    sales_reps: list[AssignedRep]
    reason: str
    status: TaskState
    snoozed_until: datetime | None = None
    occurred_at: datetime
    details: dict[str, Any] = Field(default_factory=dict)


class TaskPage(BaseModel):
    data: list[TaskItem]
    next_cursor: str | None = None


class TaskStatusUpdate(BaseModel):
    """Set an item's status; `snoozed` needs `snoozed_until` (it reopens after that)."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=400)
    status: TaskState
    snoozed_until: datetime | None = None


class TaskStatusRead(BaseModel):
    task_list: TaskList
    key: str
    status: TaskState
    snoozed_until: datetime | None = None
    updated_by: str
    updated_at: datetime

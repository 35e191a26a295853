"""Shapes of the experiments API (API.md, Personalization)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from mercato.modules.recommendations import PLACEMENT_PATTERN, StrategyName

Metric = Literal["ctr", "conversion_rate", "revenue_per_user"]
Status = Literal["draft", "running", "paused", "completed"]
Variant = Literal["control", "variant"]


class ExperimentCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    placement: str = Field(pattern=PLACEMENT_PATTERN)
    control_strategy: StrategyName
    variant_strategy: StrategyName
    traffic_split: int = Field(
        ge=0, le=100, strict=True, description="Percent of shoppers in control"
    )
    metric: Metric
    sequential: bool = Field(
        default=True,
        strict=True,
        description="Sequential confidence intervals, valid however often results are read",
    )


class ExperimentUpdate(BaseModel):
    """Changes to a draft; a started experiment keeps its design so its results stay valid."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    placement: str | None = Field(default=None, pattern=PLACEMENT_PATTERN)
    control_strategy: StrategyName | None = None
    variant_strategy: StrategyName | None = None
    traffic_split: int | None = Field(default=None, ge=0, le=100, strict=True)
    metric: Metric | None = None
    sequential: bool | None = Field(default=None, strict=True)


class ExperimentRead(BaseModel):
    id: uuid.UUID
    name: str
    placement: str
    control_strategy: str
    variant_strategy: str
    traffic_split: int
    metric: Metric
    sequential: bool
    status: Status
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


class ExperimentList(BaseModel):
    data: list[ExperimentRead]
    next_cursor: str | None = None


class VariantResult(BaseModel):
    variant: Variant
    strategy: str
    users: int
    impressions: int
    clicks: int
    conversions: int
    revenue: Decimal
    metric_value: float


class ExperimentResults(BaseModel):
    """Variant vs control on the experiment's metric; relative numbers (0.12 = +12 %)."""

    variants: list[VariantResult]
    metric: Metric
    lift: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    chance_to_win: float | None
    srm_p_value: float
    sequential: bool
    note: str | None = None
